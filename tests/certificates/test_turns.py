"""Turns at the number counters (certificates.turns, decision 0053): a conclusion renders and
seals its 保証証書 for the serial its turn gives before it locks the counter; the turns ahead
are waited for in ticket order; a guess that turns out wrong is made again under the lock, so
the number printed is always the number allocated and the serials stay gapless.

Real transactions on PostgreSQL in threads (at_once); the PDFs are stand-ins that print the
number they were rendered for, so that a test can read which number a stored original shows.
"""

import datetime
import threading

import pytest
import time_machine
from django.db import connection, transaction

from applications import services as workflow
from applications.fees import expected_fee
from applications.models import Application
from certificates import pdf, seal, turns
from certificates import services as registry
from certificates.models import Document, Guarantee, NumberCounter
from certificates.numbering import make_number
from esure import metrics
from esure.choices import GuaranteeKind
from tests.certificates.test_numbering_concurrency import approved_applications
from tests.conftest import NOW, at_once, make_staff

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="advisory locks and real parallel transactions"
)

ADVANCE = (8, 1)  # 令和8年度, 前払金保証: the counter every conclusion here draws from
DAY = datetime.date(2026, 11, 30)


def guesses():
    return {
        outcome: metrics.NUMBER_GUESSES.labels(outcome)._value.get()
        for outcome in ("right", "missed")
    }


def stand_in_pdfs(monkeypatch, slow=None, doomed=None):
    """Renders that print the number they are for; the render for `slow`'s work waits until
    another work's render has run; no seal; the store refuses the original of `doomed`'s work
    (after its number was taken)."""
    renders = []

    def render(certificate, kinds=None):
        number = certificate.guarantee.number
        if Document.Kind.CERTIFICATE in kinds:  # not the copies, made after commit
            renders.append(number)
        if slow is not None and certificate.guarantee.work_id == slow.work_id:
            slow_started.set()
            assert release_slow.wait(timeout=30)
        else:
            release_slow.set()
        return {kind: f"%PDF-1.7 {kind} {number}".encode() for kind in kinds or Document.Kind}

    save = registry.save_document

    def save_document(*, certificate, kind, data):
        if doomed is not None and certificate.guarantee.work_id == doomed.work_id:
            raise OSError("disk full")
        return save(certificate=certificate, kind=kind, data=data)

    slow_started, release_slow = threading.Event(), threading.Event()
    monkeypatch.setattr(pdf, "render_issuance_documents", render)
    monkeypatch.setattr(seal, "sign_pdf", lambda data, **kwargs: data)
    monkeypatch.setattr(registry, "save_document", save_document)
    return renders, slow_started


def conclude(application, staff):
    def call():
        [guarantee] = workflow.record_fee_receipt(
            application=application,
            received_on=NOW.date(),
            amount=expected_fee(application, NOW.date()).due,
            method="transfer",
            by=staff,
        )
        return guarantee.number

    return call


def printed_number(guarantee):
    document = guarantee.certificates.get().documents.get(kind=Document.Kind.CERTIFICATE)
    with document.file.open("rb") as f:
        return f.read().decode().rsplit(" ", 1)[1]


# --- Turn: the guess and the wait ------------------------------------------------------------


@pytest.mark.django_db
def test_alone_at_a_counter_the_turn_is_the_committed_serial_plus_one():
    assert turns.take([ADVANCE]).serial(*ADVANCE) == 1  # no counter yet
    NumberCounter.objects.create(fiscal_year=8, kind_digit=1, last_serial=41)
    turn = turns.take([ADVANCE, (8, 2)])
    assert turn.ahead == {}
    assert (turn.serial(*ADVANCE), turn.serial(8, 2)) == (42, 1)
    turn.wait()  # nobody ahead: returns at once


@pytest.mark.django_db(transaction=True)
def test_an_open_turn_ahead_counts_and_is_waited_for_and_another_counter_is_not():
    NumberCounter.objects.create(fiscal_year=8, kind_digit=1, last_serial=9)
    announced, waited = threading.Event(), threading.Event()

    def ahead():
        with transaction.atomic():
            turn = turns.take([ADVANCE])
            announced.set()
            assert not waited.wait(timeout=0.5)  # the one behind is waiting for this one
            number = registry.allocate_number(kind=GuaranteeKind.ADVANCE, day=DAY)
        return turn.ticket, turn.serial(*ADVANCE), number

    def behind():
        assert announced.wait(timeout=30)
        with transaction.atomic():
            other_counter = turns.take([(8, 2)])
            turn = turns.take([ADVANCE])
            turn.wait()
            waited.set()
            # The one ahead has ended: its serial is committed when the wait returns.
            seen = NumberCounter.objects.get(fiscal_year=8, kind_digit=1).last_serial
            number = registry.allocate_number(kind=GuaranteeKind.ADVANCE, day=DAY)
        return other_counter.ahead, turn.ahead, turn.serial(*ADVANCE), seen, number

    [(_, first), (_, second)] = at_once(ahead, behind)

    ticket, serial, number = first
    assert serial == 10 and number == make_number(8, GuaranteeKind.ADVANCE, 10)
    other_ahead, ahead_of_it, its_serial, seen, its_number = second
    assert other_ahead == {}  # 契約保証's counter: nobody ahead
    assert ahead_of_it == {ADVANCE: [ticket]}
    assert its_serial == 11 and its_number == make_number(8, GuaranteeKind.ADVANCE, 11)
    assert seen == 10  # it waited until the one ahead had committed


@pytest.mark.django_db
def test_without_tickets_sqlite_guesses_the_committed_serial_plus_one(monkeypatch):
    NumberCounter.objects.create(fiscal_year=8, kind_digit=1, last_serial=3)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    turn = turns.take([ADVANCE])
    assert (turn.ticket, turn.ahead, turn.serial(*ADVANCE)) == (None, {}, 4)


# --- Conclusions: rendered before the lock, right numbers printed ----------------------------


@pytest.mark.django_db(transaction=True)
def test_the_first_to_take_its_turn_gets_the_first_number_even_if_it_renders_last(monkeypatch):
    first, second = approved_applications(2)
    staff = make_staff()
    renders, slow_started = stand_in_pdfs(monkeypatch, slow=first)
    before = guesses()

    def later():
        assert slow_started.wait(timeout=30)  # the first is rendering, its turn taken
        return conclude(second, staff)()

    with time_machine.travel(NOW, tick=True):
        results = at_once(conclude(first, staff), later)

    numbers = [make_number(8, GuaranteeKind.ADVANCE, n) for n in (1, 2)]
    assert results == [("ok", numbers[0]), ("ok", numbers[1])]
    assert sorted(renders) == numbers  # each rendered once, for the number it got
    assert guesses() == {"right": before["right"] + 2, "missed": before["missed"]}
    for number in numbers:
        assert printed_number(Guarantee.objects.get(number=number)) == number


@pytest.mark.django_db(transaction=True)
def test_a_conclusion_ahead_that_rolls_back_makes_the_next_render_again_under_the_lock(
    monkeypatch,
):
    first, second = approved_applications(2)
    staff = make_staff()
    renders, slow_started = stand_in_pdfs(monkeypatch, slow=first, doomed=first)
    before = guesses()

    def later():
        assert slow_started.wait(timeout=30)
        return conclude(second, staff)()

    with time_machine.travel(NOW, tick=True):
        results = at_once(conclude(first, staff), later)

    one, two = (make_number(8, GuaranteeKind.ADVANCE, n) for n in (1, 2))
    assert results[0][0] == "error" and isinstance(results[0][1], OSError)
    assert results[1] == ("ok", one)  # the serial the failed one had taken, given back
    # The first rendered for 1 and failed after taking it; the second rendered for 2 (one
    # ahead), got 1, and rendered again under the lock.
    assert renders == [one, two, one]
    assert guesses() == {"right": before["right"] + 1, "missed": before["missed"] + 1}
    assert printed_number(Guarantee.objects.get()) == one
    assert NumberCounter.objects.get(fiscal_year=8, kind_digit=1).last_serial == 1
    first.refresh_from_db()
    assert first.status == Application.Status.APPROVED
