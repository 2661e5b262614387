"""The bank's CSV of executed transfers (払出報告 in bulk): rows matched to confirmed
requests are recorded, a row that matches nothing is reported and changes nothing, and the
same file — or the same transaction in another file — never counts twice."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from advances import imports, selectors, services
from advances.models import BankImport, Withdrawal
from tests.conftest import (
    line_of,
    make_advance_account,
    make_bank_branch,
    make_bank_user,
    make_deposit,
    make_plan,
    make_withdrawal,
)

W = Withdrawal.Status
pytestmark = pytest.mark.django_db
HEADER = "口座番号,払出依頼番号,払出日,金額,取引番号\r\n"


@pytest.fixture
def banker(db):
    return make_bank_user(make_bank_branch(), email="madoguchi@bungo-bank.example.jp")


@pytest.fixture
def account(banker):
    account = make_advance_account(branch=banker.bank_membership.branch)
    make_deposit(account, by=banker)
    return account


@pytest.fixture
def confirmed(account, banker):
    plan = make_plan(account)
    first = make_withdrawal(
        account, [(line_of(plan, "material"), 300_000)], status="confirmed", bank_user=banker
    )
    second = make_withdrawal(
        account, [(line_of(plan, "labor"), 200_000)], status="confirmed", bank_user=banker
    )
    return first, second


def csv_of(*rows, encoding="utf-8"):
    """A file as a bank exports it: a header, then quoted cells where they hold a comma."""
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return (HEADER + out.getvalue()).encode(encoding)


def today():
    return timezone.localdate().strftime("%Y/%m/%d")


def test_matching_rows_are_recorded_and_one_that_matches_nothing_is_reported(
    client_for, banker, account, confirmed
):
    first, second = confirmed
    data = csv_of(
        (account.account_number, first.reference, today(), "300,000", "TX-001"),
        (account.account_number, str(second.number), today(), "２００，０００", "TX-002"),
        ("9999999", "1", today(), "100", "TX-003"),
    )
    browser = client_for(banker)
    upload = {"file": _file(data)}
    response = browser.post(reverse("bank:import"), upload)
    record = BankImport.objects.get()
    assert response["Location"] == reverse("bank:import_result", args=[record.pk])
    assert [r["outcome"] for r in record.result] == ["recorded", "recorded", "unmatched"]
    assert record.result[2]["message"] == imports.MSG_ROW_ACCOUNT
    assert [
        (w.status, w.executed_amount, w.bank_reference)
        for w in Withdrawal.objects.filter(pk__in=[first.pk, second.pk]).order_by("number")
    ] == [(W.EXECUTED, 300_000, "TX-001"), (W.EXECUTED, 200_000, "TX-002")]
    assert selectors.position_of(account).paid_out == 500_000
    page = browser.get(response["Location"]).content.decode()
    assert "該当なし" in page and "9999999" in page


def test_the_same_file_twice_is_refused_and_counts_once(client_for, banker, account, confirmed):
    first, _ = confirmed
    data = csv_of((account.account_number, first.reference, today(), "300000", "TX-001"))
    browser = client_for(banker)
    browser.post(reverse("bank:import"), {"file": _file(data)})
    response = browser.post(reverse("bank:import"), {"file": _file(data)})
    assert response.status_code == 400
    assert "このファイルはすでに取り込まれています" in response.content.decode()
    assert BankImport.objects.count() == 1
    assert selectors.position_of(account).paid_out == 300_000


def test_a_transaction_already_recorded_in_another_file_is_not_counted_again(
    banker, account, confirmed
):
    first, second = confirmed
    row = (account.account_number, first.reference, today(), "300000", "TX-001")
    imports.import_bank_csv(branch=account.branch, by=banker, name="a.csv", data=csv_of(row))
    again = imports.import_bank_csv(
        branch=account.branch,
        by=banker,
        name="b.csv",
        data=csv_of(row, (account.account_number, second.reference, today(), "200000", "TX-002")),
    )
    assert [r["outcome"] for r in again.result] == ["already", "recorded"]
    assert selectors.position_of(account).paid_out == 500_000


def test_rows_that_do_not_fit_change_nothing_and_say_why(banker, account, confirmed):
    first, _ = confirmed
    number, ref, day = account.account_number, first.reference, today()
    rows = [
        (
            (number, ref, day, "299999", "X1"),
            "払出額 299,999円 が依頼額 300,000円 と一致しません。",
        ),
        ((number, "99", day, "300000", "X2"), imports.MSG_ROW_NO_REQUEST),
        ((number, "0-1", day, "300000", "X3"), imports.MSG_ROW_REQUEST),
        ((number, ref, "昨日", "300000", "X4"), imports.MSG_ROW_DATE),
        ((number, ref, day, "三十万", "X5"), imports.MSG_ROW_AMOUNT),
    ]
    data = csv_of(*(row for row, _ in rows))
    record = imports.import_bank_csv(branch=account.branch, by=banker, name="x.csv", data=data)
    assert [(r["line"], r["outcome"], r["message"]) for r in record.result] == [
        (line, "unmatched", message) for line, (_, message) in enumerate(rows, 2)
    ]
    assert Withdrawal.objects.get(pk=first.pk).status == W.CONFIRMED


def test_a_request_not_yet_confirmed_is_not_recorded(banker, account, confirmed):
    first, _ = confirmed
    services.reject_withdrawal(withdrawal=first, by=banker, reason="取消")
    data = csv_of((account.account_number, first.reference, today(), "300000", "TX-9"))
    record = imports.import_bank_csv(branch=account.branch, by=banker, name="x.csv", data=data)
    assert record.result[0]["outcome"] == "unmatched"
    assert "不承認" in record.result[0]["message"]


def test_another_branchs_account_is_not_found(account, confirmed):
    first, _ = confirmed
    other = make_bank_user(make_bank_branch(code="102", name="臼杵支店"))
    data = csv_of((account.account_number, first.reference, today(), "300000", "TX-1"))
    record = imports.import_bank_csv(
        branch=other.bank_membership.branch, by=other, name="x.csv", data=data
    )
    assert record.result[0]["message"] == imports.MSG_ROW_ACCOUNT
    assert Withdrawal.objects.get(pk=first.pk).status == W.CONFIRMED


def test_a_shift_jis_file_with_full_width_digits_is_read(banker, account, confirmed):
    first, _ = confirmed
    data = csv_of(
        (
            "１２３４５６７",
            first.reference,
            "2026/1/5".replace("2026/1/5", today()),
            "300,000円",
            "TX-1",
        ),
        encoding="cp932",
    )
    record = imports.import_bank_csv(branch=account.branch, by=banker, name="sjis.csv", data=data)
    assert record.result[0]["outcome"] == "recorded"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"a,b,c\r\n1,2,3\r\n", "1行目の見出しが正しくありません"),
        (HEADER.encode(), imports.MSG_IMPORT_EMPTY),
        (b"\xff\xfe\x00\x81\x00", "文字コードを判別できません"),
    ],
)
def test_a_file_that_is_not_the_format_is_refused_whole(banker, account, data, message):
    with pytest.raises(services.ValidationError) as error:
        imports.import_bank_csv(branch=account.branch, by=banker, name="x.csv", data=data)
    assert message in " ".join(error.value.messages)
    assert not BankImport.objects.exists()


def _file(data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("haraidashi.csv", data, content_type="text/csv")
