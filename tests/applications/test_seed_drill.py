"""`manage.py seed_drill` seeds only the restore drill's own databases: its guarantees are fake
but take real numbers from the gapless counter, and certificates can never be deleted."""

import pytest
from django.core.management import CommandError, call_command


def test_seed_drill_refuses_a_database_not_named_esure_drill():
    with pytest.raises(CommandError, match="esure_drill"):
        call_command("seed_drill", "--guarantees", "3")
