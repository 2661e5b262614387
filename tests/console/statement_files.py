"""Bank statement files (全銀協 入出金取引明細) as banks send them, for the tests: the fixed-
length file (200-byte records, Shift_JIS) or its CSV variant, built from plain values."""

import datetime

from console import zengin

BOOKED_ON = datetime.date(2026, 11, 30)


def wareki(day):
    return f"{day.year - zengin.REIWA_START:02d}{day:%m%d}"


def record(layout, values):
    """One 200-byte record: numbers right-aligned with zeros, text left-aligned with spaces
    (widths in Shift_JIS bytes)."""
    out = b""
    for name, width, numeric in layout:
        value = values.get(name, "")
        if numeric:
            field = str(value).rjust(width, "0").encode("cp932")
        else:
            field = str(value).encode("cp932")[:width].ljust(width, b" ")
        assert len(field) == width, (name, value)
        out += field
    return out


def credit(amount, sender, *, reference=None, booked_on=BOOKED_ON, direction=1):
    return {
        "amount": amount,
        "sender": sender,
        "reference": reference,
        "booked_on": booked_on,
        "direction": direction,
    }


def records(transactions, *, account="1234567", trailer=None):
    """Header, data, trailer and end records as {field: value} per record type."""
    header = {
        "kind": 1,
        "code": "03",
        "charset": 0,
        "created_on": wareki(BOOKED_ON),
        "period_from": wareki(min((t["booked_on"] for t in transactions), default=BOOKED_ON)),
        "period_to": wareki(BOOKED_ON),
        "bank_code": "0177",
        "bank_name": "ｵｵｲﾀｷﾞﾝｺｳ",
        "branch_code": "123",
        "branch_name": "ﾂｸﾐ",
        "account_type": 1,
        "account_number": account,
        "account_name": "ﾎｼｮｳｼﾞｷﾞｮｳｶﾞｲｼｬ",
        "balance_before": 1_000_000,
    }
    data = []
    for n, t in enumerate(transactions, 1):
        data.append(
            {
                "kind": 2,
                "reference": t["reference"] or n,
                "booked_on": wareki(t["booked_on"]),
                "value_on": wareki(t["booked_on"]),
                "direction": t["direction"],
                "transaction_type": 11,
                "amount": t["amount"],
                "sender": t["sender"],
            }
        )
    credits = [t["amount"] for t in transactions if t["direction"] == 1]
    debits = [t["amount"] for t in transactions if t["direction"] == 2]
    tail = {
        "kind": 8,
        "credit_count": len(credits),
        "credit_total": sum(credits),
        "debit_count": len(debits),
        "debit_total": sum(debits),
        "balance_after": 1_000_000 + sum(credits) - sum(debits),
        **(trailer or {}),
    }
    return [("1", header), *(("2", d) for d in data), ("8", tail), ("9", {"kind": 9})]


def fixed_file(transactions, *, newline=True, **options):
    """The fixed-length file: 200-byte records in Shift_JIS, CR/LF after each (or none)."""
    raw = [
        record(zengin.LAYOUTS[kind], values) for kind, values in records(transactions, **options)
    ]
    return (b"\r\n".join(raw) + b"\r\n") if newline else b"".join(raw)


def csv_file(transactions, **options):
    """The CSV variant: the same items without fillers, Shift_JIS."""
    lines = []
    for kind, values in records(transactions, **options):
        names = [name for name, _, _ in zengin.LAYOUTS[kind] if name]
        lines.append(",".join(str(values.get(name, "")) for name in names))
    return ("\r\n".join(lines) + "\r\n").encode("cp932")
