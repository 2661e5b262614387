"""The orderers of a company's works from the index alone (menu 4's filter, decision 0056)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0017_turn_tickets"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="work",
            index=models.Index(fields=["company", "orderer"], name="work_company_orderers"),
        ),
    ]
