"""Menu 4's index in its order: newest change first, then id (decision 0056), so that a
company's page of 20 applications is read in order rather than all of them sorted."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0006_status_history_shape"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="application",
            name="application_company_recent",
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(
                fields=["company", "-updated_at", "-id"], name="application_company_recent"
            ),
        ),
    ]
