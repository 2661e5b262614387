"""Seed the allowed uses per kind of work and the evidence each needs (rules 1 and 7,
advances/seed.py, decision 0014). Staff keep the lists in admin afterwards."""

from django.db import migrations


def forwards(apps, schema_editor):
    from advances.seed import seed

    seed(apps.get_model("advances", "UseCategory"), apps.get_model("advances", "EvidenceKind"))


class Migration(migrations.Migration):
    dependencies = [("advances", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
