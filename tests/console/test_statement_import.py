"""Fee receipts from the bank's statement: each credit matched to the application waiting for
its fee (amount + 申込番号 or company name), proposals concluded through the 保証料入金 service
only when confirmed, nothing concluded twice (issue 20)."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from applications.fees import expected_fee
from applications.models import Application, FeeReceipt
from console import statements
from console.models import StatementCredit
from tests.conftest import make_application, make_company, make_fee_tables, make_staff
from tests.console.statement_files import BOOKED_ON, credit, csv_file, fixed_file

pytestmark = pytest.mark.usefixtures("frozen")
Outcome = StatementCredit.Outcome


@pytest.fixture
def staff(db):
    make_fee_tables()
    return make_staff()


def waiting(name_kana="カブシキガイシャツクミケンセツ", **fields):
    """An application approved and waiting for its fee, and the fee due on BOOKED_ON."""
    company = make_company(name_kana=name_kana)
    application = make_application(company=company, status="approved", **fields)
    return application, expected_fee(application, BOOKED_ON).due


def test_a_credit_with_the_application_number_and_amount_is_proposed(staff):
    application, due = waiting()

    record = statements.import_statement(
        name="nyushukkin.txt", data=fixed_file([credit(due, f"{application.pk} ｼﾗﾝ")]), by=staff
    )

    (row,) = record.credits.all()
    assert (row.outcome, row.application) == (Outcome.MATCHED, application)
    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED  # nothing concluded yet


def test_a_credit_with_the_company_name_in_half_width_kana_is_proposed(staff):
    application, due = waiting()

    record = statements.import_statement(
        name="a.txt", data=fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ")]), by=staff
    )

    assert record.credits.get().application == application


def test_a_credit_of_another_amount_matches_nothing(staff):
    application, due = waiting()

    record = statements.import_statement(
        name="a.txt", data=fixed_file([credit(due - 1, f"{application.pk} ｶ)ﾂｸﾐｹﾝｾﾂ")]), by=staff
    )

    row = record.credits.get()
    assert (row.outcome, row.application, row.candidates) == (Outcome.UNMATCHED, None, [])


def test_a_credit_that_fits_two_applications_is_listed_not_proposed(staff):
    first, due = waiting()
    second = make_application(company=first.company, status="approved")
    assert expected_fee(second, BOOKED_ON).due == due

    record = statements.import_statement(
        name="a.txt", data=fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ")]), by=staff
    )

    row = record.credits.get()
    assert (row.outcome, row.application) == (Outcome.AMBIGUOUS, None)
    assert sorted(row.candidates) == sorted([first.pk, second.pk])


def test_two_credits_for_one_application_are_both_listed_not_proposed(staff):
    application, due = waiting()

    record = statements.import_statement(
        name="a.txt",
        data=fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ"), credit(due, f"{application.pk}")]),
        by=staff,
    )

    assert [c.outcome for c in record.credits.all()] == [Outcome.AMBIGUOUS, Outcome.AMBIGUOUS]


def test_confirmed_credits_are_concluded_through_the_fee_receipt_service(staff):
    application, due = waiting()
    record = statements.import_statement(
        name="a.csv", data=csv_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ")]), by=staff
    )
    row = record.credits.get()

    concluded, refused = statements.conclude_credits(credit_ids=[row.pk], by=staff)

    assert refused == [] and len(concluded) == 1
    application.refresh_from_db()
    assert application.status == Application.Status.CONCLUDED
    receipt = FeeReceipt.objects.get(application=application)
    assert (receipt.amount, receipt.received_on, receipt.method) == (due, BOOKED_ON, "transfer")
    row.refresh_from_db()
    assert (row.outcome, row.fee_receipt) == (Outcome.CONCLUDED, receipt)


def test_a_credit_is_concluded_once_and_an_unmatched_one_never(staff):
    application, due = waiting()
    record = statements.import_statement(
        name="a.txt", data=fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ"), credit(1, "ﾅﾆｶ")]), by=staff
    )
    matched, unmatched = record.credits.all()
    statements.conclude_credits(credit_ids=[matched.pk], by=staff)

    concluded, refused = statements.conclude_credits(
        credit_ids=[matched.pk, unmatched.pk], by=staff
    )

    assert concluded == []
    assert [message for _, message in refused] == [
        "照合済の入金ではありません（締結済）",
        "照合済の入金ではありません（該当なし）",
    ]
    assert FeeReceipt.objects.filter(application=application).count() == 1


def test_the_same_file_twice_is_refused(staff):
    _, due = waiting()
    data = fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ")])
    statements.import_statement(name="a.txt", data=data, by=staff)

    with pytest.raises(ValidationError) as error:
        statements.import_statement(name="again.txt", data=data, by=staff)

    assert "すでに取り込まれています" in error.value.message_dict["file"][0]


def test_a_credit_repeated_in_a_later_file_is_never_concluded_again(staff):
    _, due = waiting()
    first = statements.import_statement(
        name="a.txt", data=fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ", reference=5)]), by=staff
    )
    statements.conclude_credits(credit_ids=[first.credits.get().pk], by=staff)
    # The next day's file (other bytes: CSV) repeats the same transaction.
    later = statements.import_statement(
        name="b.csv", data=csv_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ", reference=5)]), by=staff
    )

    row = later.credits.get()
    assert (row.outcome, row.application) == (Outcome.REPEATED, None)
    assert statements.conclude_credits(credit_ids=[row.pk], by=staff)[0] == []


def test_a_malformed_file_is_refused_naming_its_line(staff):
    data = fixed_file([credit(1000, "ﾃｽﾄ")]).replace(b"\r\n2", b"\r\n5", 1)

    with pytest.raises(ValidationError) as error:
        statements.import_statement(name="bad.txt", data=data, by=staff)

    assert error.value.message_dict["file"] == [
        "2行目: データ区分「5」は入出金取引明細にありません（1, 2, 8, 9 のいずれか）。"
    ]


# --- The admin pages ---------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def _upload(client, data, name="statement.txt"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("admin:console_statementimport_upload"),
        {"file": SimpleUploadedFile(name, data)},
    )


def test_staff_upload_a_statement_and_see_the_proposed_match(staff_client):
    application, due = waiting()

    response = _upload(staff_client, fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ"), credit(7, "ﾅﾆｶ")]))

    assert response.status_code == 302
    page = staff_client.get(response["Location"]).content.decode()
    assert f"申込番号 {application.pk}" in page
    assert "照合済（締結待ち）" in page and "該当なし" in page
    assert page.count('name="credit"') == 1  # only the proposal can be chosen


def test_a_bad_file_keeps_the_upload_page_with_the_line_named(staff_client):
    response = _upload(staff_client, b"1" * 199 + b"\r\n")

    assert response.status_code == 200
    assert "1行目: レコードの長さが 199 バイト" in response.content.decode()


def test_staff_conclude_the_chosen_credits(staff_client, staff):
    application, due = waiting()
    record = statements.import_statement(
        name="a.txt", data=fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ")]), by=staff
    )
    url = reverse("admin:console_statementimport_conclude", args=[record.pk])

    response = staff_client.post(url, {"credit": [record.credits.get().pk]}, follow=True)

    assert "締結しました" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.CONCLUDED


def test_concluding_nothing_chosen_says_so(staff_client, staff):
    _, due = waiting()
    record = statements.import_statement(
        name="a.txt", data=fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ")]), by=staff
    )
    url = reverse("admin:console_statementimport_conclude", args=[record.pk])

    response = staff_client.post(url, {}, follow=True)

    assert statements_admin_message() in response.content.decode()


def statements_admin_message():
    from console.admin import MSG_NOTHING_CHOSEN

    return MSG_NOTHING_CHOSEN


def test_a_credit_of_another_import_cannot_be_concluded_through_this_one(staff_client, staff):
    application, due = waiting()
    mine = statements.import_statement(
        name="a.txt", data=fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ")]), by=staff
    )
    other = statements.import_statement(name="b.txt", data=fixed_file([credit(5, "ﾅﾆｶ")]), by=staff)
    url = reverse("admin:console_statementimport_conclude", args=[other.pk])

    staff_client.post(url, {"credit": [mine.credits.get().pk]})

    application.refresh_from_db()
    assert application.status == Application.Status.APPROVED


def test_the_conclude_url_wants_a_post(staff_client, staff):
    _, due = waiting()
    record = statements.import_statement(
        name="a.txt", data=fixed_file([credit(due, "ｶ)ﾂｸﾐｹﾝｾﾂ")]), by=staff
    )

    response = staff_client.get(reverse("admin:console_statementimport_conclude", args=[record.pk]))

    assert response.status_code == 405


def test_the_upload_page_takes_get_and_post_only(staff_client):
    url = reverse("admin:console_statementimport_upload")

    assert staff_client.get(url).status_code == 200
    assert staff_client.put(url).status_code == 405


def test_an_unknown_import_is_404(staff_client):
    url = reverse("admin:console_statementimport_conclude", args=[999999])

    assert staff_client.post(url, {"credit": ["1"]}).status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "clerk"])
def test_only_staff_reach_the_upload_page(client, clerk, who):
    if who == "clerk":
        client.force_login(clerk)

    response = client.get(reverse("admin:console_statementimport_upload"))

    assert response.status_code == 302
    assert "login" in response["Location"]
