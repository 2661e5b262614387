"""The contractor's guarantee list reads a company's guarantees newest first, one page at a
time: an index on (company, concluded_at DESC, id DESC) lets PostgreSQL stop after the page
(EXPLAIN in bench/README.md). It replaces (company, -concluded_at) and the foreign key's own
index on company, which it covers. Added before the others are dropped, so a company's
guarantees are never without an index."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_officemembership"),
        ("certificates", "0003_append_only"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="guarantee",
            index=models.Index(
                fields=["company", "-concluded_at", "-id"], name="guarantee_company_recent"
            ),
        ),
        migrations.RemoveIndex(model_name="guarantee", name="guarantee_company"),
        migrations.AlterField(
            model_name="guarantee",
            name="company",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="guarantees",
                to="accounts.company",
            ),
        ),
    ]
