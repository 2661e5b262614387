"""The seeded lists of rules 1 and 7 (decision 0014): the allowed uses per kind of work and
the evidence each needs. Loaded by migration 0002, by load_demo_advances and by the tests'
builders; staff keep them in admin afterwards. Idempotent: a row that exists (by code or
name) is left as staff have made it.

Sources of the uses (rule 1):
- 工事: 公共工事標準請負契約約款 第37条 — 材料費、労務費、機械器具の賃借料、機械購入費（この
  工事において償却される割合に相当する額に限る。）、動力費、支払運賃、修繕費、仮設費、
  労働者災害補償保険料及び保証料. Payments to subcontractors for these are 下請代金.
  現場管理費・一般管理費等 (up to 25% of the 前払金, only with the clause: rule 2).
- 設計・調査: 公共土木設計業務等標準委託契約約款 (前払金の使用等) — 材料費、労務費、外注費、
  機械購入費（この業務において償却される割合に相当する額に限る。）、動力費、支払運賃及び保証料.
- 測量: the same 約款's 測量 version — 材料費、労務費、外注費、機械購入費（同）、交通通信費、
  支払運賃及び保証料.
Evidence (rule 7, a setting): 下請代金 — 下請契約書 and 施工体制台帳; 材料費 — 注文請書・納品書・
請求書; 直用労務費 and 保証料 — none (paid to the contractor's own account). The other
payments to third parties need their invoice (請求書; 労災保険料 its 納付書).
"""

C, D, S = "construction", "design", "survey"
ALL = [C, D, S]

SUBCONTRACT_DEED = "下請契約書"
SITE_REGISTER = "施工体制台帳"
PURCHASE_PAPERS = "注文請書・納品書・請求書"
INVOICE = "請求書"
PAYMENT_SLIP = "納付書"

EVIDENCE_KINDS = [SUBCONTRACT_DEED, SITE_REGISTER, PURCHASE_PAPERS, INVOICE, PAYMENT_SLIP]

OVERHEAD_CODE = "overhead"

# (code, name, work kinds, payment, is_overhead, evidence)
CATEGORIES = [
    ("material", "材料費", ALL, "payee", False, [PURCHASE_PAPERS]),
    ("labor", "労務費（直用）", ALL, "own_account", False, []),
    ("subcontract", "下請代金", [C], "payee", False, [SUBCONTRACT_DEED, SITE_REGISTER]),
    ("outsourcing", "外注費", [D, S], "payee", False, [SUBCONTRACT_DEED]),
    ("equipment_rental", "機械器具の賃借料", [C], "payee", False, [INVOICE]),
    ("machinery", "機械購入費（当該工事・業務で償却される分）", ALL, "payee", False, [INVOICE]),
    ("power", "動力費", [C, D], "payee", False, [INVOICE]),
    ("freight", "支払運賃", ALL, "payee", False, [INVOICE]),
    ("repair", "修繕費", [C], "payee", False, [INVOICE]),
    ("temporary", "仮設費", [C], "payee", False, [INVOICE]),
    ("workers_comp", "労働者災害補償保険料", [C], "payee", False, [PAYMENT_SLIP]),
    ("travel", "交通通信費", [S], "payee", False, [INVOICE]),
    ("guarantee_fee", "保証料", ALL, "own_account", False, []),
    (OVERHEAD_CODE, "現場管理費・一般管理費等", [C], "own_account", True, []),
]


def seed(UseCategory, EvidenceKind):
    """Create the seeded evidence kinds and categories that do not exist yet. Returns the
    number of rows created."""
    created = 0
    kinds = {}
    for order, name in enumerate(EVIDENCE_KINDS, 1):
        kinds[name], new = EvidenceKind.objects.get_or_create(
            name=name, defaults={"sort_order": order}
        )
        created += new
    for order, (code, name, work_kinds, payment, overhead, evidence) in enumerate(CATEGORIES, 1):
        category, new = UseCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "work_kinds": work_kinds,
                "payment": payment,
                "is_overhead": overhead,
                "sort_order": order * 10,
            },
        )
        if new:
            category.evidence_kinds.set([kinds[e] for e in evidence])
            created += 1
    return created
