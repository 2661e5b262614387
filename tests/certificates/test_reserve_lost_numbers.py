"""A restore to an earlier time loses conclusions but not their PDFs: their numbers are
found in the storage and reserved, so no 保証契約番号 ever names a second guarantee
(docs/operations.md, "A restore lost conclusions")."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from certificates import services
from certificates.integrity import lost_numbers
from certificates.models import NumberCounter
from certificates.numbering import KIND_DIGITS, damm_check_digit, make_number
from esure.choices import GuaranteeKind
from esure.wareki import fiscal_year_reiwa
from tests.conftest import make_concluded

ADVANCE, CONTRACT = GuaranteeKind.ADVANCE, GuaranteeKind.CONTRACT


@pytest.fixture
def year():
    return fiscal_year_reiwa(timezone.localdate())


def store(name):
    default_storage.save(f"documents/2026/11/{name}", ContentFile(b"%PDF-1.7 lost"))


def counter(year, kind):
    return NumberCounter.objects.get(fiscal_year=year, kind_digit=KIND_DIGITS[kind]).last_serial


@pytest.fixture
def lost(db, year):
    """One real conclusion (serial 1), then the PDFs of two conclusions the restore lost:
    前払金 serial 5 (two versions) and 契約保証 serial 3; and files that are not ours."""
    [kept] = make_concluded()
    advance, contract = make_number(year, ADVANCE, 5), make_number(year, CONTRACT, 3)
    for name in (
        f"{advance}-v1-certificate.pdf",
        f"{advance}-v2-certificate.pdf",
        f"{contract}-v1-customer_copy.pdf",
        f"{advance[:-1]}{(int(advance[-1]) + 1) % 10}-v1-certificate.pdf",  # bad check digit
        "notes.txt",
    ):
        store(name)
    return kept, advance, contract


def test_the_numbers_with_a_pdf_and_no_guarantee_are_found(lost):
    kept, advance, contract = lost

    assert lost_numbers() == sorted([advance, contract])
    assert kept.number not in lost_numbers()


def test_a_dry_run_lists_them_changes_nothing_and_fails(lost, year, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command("reserve_lost_numbers")

    assert exit_.value.code == 1
    out = capsys.readouterr()
    assert "lost numbers: 2" in out.out and "--apply" in out.err
    assert counter(year, ADVANCE) == 1
    assert not NumberCounter.objects.filter(kind_digit=KIND_DIGITS[CONTRACT]).exists()


def test_apply_raises_the_counters_past_them_and_audits_it(lost, year, capsys):
    _, advance, contract = lost

    call_command("reserve_lost_numbers", "--apply")

    assert counter(year, ADVANCE) == 5 and counter(year, CONTRACT) == 3
    assert services.allocate_number(kind=ADVANCE, day=timezone.localdate()) == make_number(
        year, ADVANCE, 6
    )
    event = AuditEvent.objects.get(action="numbers.reserved")
    assert event.data["numbers"] == sorted([advance, contract])
    assert "counters raised" in capsys.readouterr().out


@pytest.mark.parametrize(("before", "after"), [(4, 5), (5, 5), (6, 6)])
def test_a_counter_is_raised_to_the_lost_serial_never_lowered(db, year, before, after):
    NumberCounter.objects.create(
        fiscal_year=year, kind_digit=KIND_DIGITS[ADVANCE], last_serial=before
    )

    raised = services.reserve_numbers(numbers=[make_number(year, ADVANCE, 5)])

    assert counter(year, ADVANCE) == after
    assert bool(raised) is (before < 5)
    assert AuditEvent.objects.filter(action="numbers.reserved").exists() is (before < 5)


def test_nothing_lost_is_said_and_succeeds(db, capsys):
    make_concluded()

    call_command("reserve_lost_numbers")

    assert "lost numbers: none" in capsys.readouterr().out


@pytest.mark.parametrize(
    "number",
    [
        "06100000052",  # a wrong check digit
        f"0640000005{damm_check_digit('0640000005')}",  # kind 4 does not exist
        "0610000005",  # ten digits
    ],
)
def test_a_number_that_does_not_parse_is_refused(db, number):
    """reserve_numbers reads each number with numbering.parse_number, the parser D-Sure uses."""
    with pytest.raises(ValueError, match="not a 保証契約番号"):
        services.reserve_numbers(numbers=[number])
    assert not NumberCounter.objects.exists()


def test_a_number_is_read_however_it_is_written(db):
    services.reserve_numbers(numbers=["06-1-0000005-1"])
    assert NumberCounter.objects.get(fiscal_year=6, kind_digit=1).last_serial == 5
