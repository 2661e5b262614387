"""The canonical content of a certificate version (電子証書) and its fingerprint.

The content is plain JSON (strings, ints, ISO dates), frozen at issuance: the PDF, the
contractor's page and D-Sure all show this and only this. The fingerprint is the SHA-256
of its canonical serialisation (sorted keys, no spaces, UTF-8), printed on every copy.
"""

import hashlib
import json

from certificates.numbering import format_number
from esure.choices import GuaranteeKind

SCHEMA = 1
TITLES = {
    GuaranteeKind.ADVANCE: "前払金保証証書",
    GuaranteeKind.CONTRACT: "契約保証証書",
    GuaranteeKind.INTERMEDIATE: "中間前払金保証証書",
}


def canonical_json(content) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fingerprint(content) -> str:
    """SHA-256 (hex) of the canonical JSON: the same content always gives the same print."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def contractor_content(company, branch=None, joint_venture=None):
    """保証契約者 as the certificate names it: the company with its head office and
    representative, and the contracting office (契約営業所) with its 受任者 when one was
    chosen (a snapshot: editing the branch later changes no certificate)."""
    contractor = {
        "name": company.name,
        "corporate_number": company.corporate_number,
        "address": company.address,
        "representative": f"{company.representative_title} {company.representative_name}",
    }
    if branch is not None:
        contractor["branch"] = {
            "name": branch.name,
            "address": branch.address,
            "agent": branch.agent,
        }
    if joint_venture is not None:
        # The JV is 保証契約者; `company` (with its branch) is its 代表者. Shares as text
        # ("60.0"): the content is plain JSON, without floats.
        contractor["joint_venture"] = {
            "name": joint_venture.name,
            "kind": joint_venture.get_kind_display(),
            "advance_deposit": joint_venture.advance_deposit,
            "members": [
                {
                    "name": m.company.name,
                    "corporate_number": m.company.corporate_number,
                    "share": str(m.share),
                    "representative": m.company_id == company.pk,
                }
                for m in joint_venture.members.select_related("company").order_by("position")
            ],
        }
    return contractor


def contractor_lines(contractor) -> list[tuple[str, str]]:
    """保証契約者 as staff read it in admin, from `contractor_content` (a certificate's
    snapshot, or the workflow's work before issuance): (label, text) rows — the JV with its
    members and 出資比率 and deposit method, the company and representative, the contracting
    office and its 受任者."""
    from accounts.models import JointVenture

    rows = []
    jv = contractor.get("joint_venture")
    if jv:
        rows.append(("共同企業体", f"{jv['name']}（{jv['kind']}）"))
        members = "、".join(
            f"{m['name']}{'（代表者）' if m.get('representative') else ''} {m['share']}%"
            for m in jv["members"]
        )
        rows.append(("構成員（出資比率）", members))
        deposit = jv.get("advance_deposit", "")
        labels = dict(JointVenture.AdvanceDeposit.choices)
        rows.append(("前払金の預託方法", labels.get(deposit, deposit)))
    rows.append(
        ("代表者" if jv else "保証契約者", f"{contractor['name']} {contractor['representative']}")
    )
    branch = contractor.get("branch")
    rows.append(
        (
            "契約営業所（受任者）",
            f"{branch['name']}（受任者 {branch['agent']}）" if branch else "本店（代表者）",
        )
    )
    return rows


def build_content(
    *,
    number,
    kind,
    version,
    issued_at,
    company,
    work,
    orderer,
    office,
    amount,
    starts_on,
    ends_on,
    fee,
    surety_name,
    delivery,
    changes=(),
):
    """Everything the 保証証書 states, as plain values (see the module docstring).

    `fee` is a dict from the workflow: {"fee", "rate_ppm", "minimum_fee", "table_name",
    "is_demo", "received_on", "method"} (plain values); `changes` lists what a 変更 version
    changed: [{"field", "label", "old", "new"}].
    """
    return {
        "schema": SCHEMA,
        "title": TITLES[kind] if version == 1 else "変更" + TITLES[kind],
        "number": number,
        "number_display": format_number(number),
        "kind": str(kind),
        "kind_label": GuaranteeKind(kind).label,
        "version": version,
        "issued_at": issued_at.isoformat(),
        "delivery": str(delivery),
        "surety": {"name": surety_name},
        "contractor": contractor_content(company, work.branch, work.joint_venture),
        "orderer": {"name": orderer.name, "head_title": orderer.head_title},
        "office": {"name": office.name if office else ""},
        "work": {
            "number": work.work_number,
            "name": work.name,
            "location": work.location,
            "category": work.get_category_display(),
            "contract_method": work.get_contract_method_display(),
            "price": work.price,
            "contract_date": work.contract_date.isoformat(),
            "start_date": work.start_date.isoformat(),
            "end_date": work.end_date.isoformat(),
        },
        "guarantee": {
            "amount": amount,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
        },
        "fee": fee,
        "changes": list(changes),
    }
