"""Domain vocabularies shared by several apps (DESIGN.md §3).

They live here, outside any app, because `accounts` (orderer policies) and `certificates`
(works, guarantees) both need them and `accounts` must import neither of the other apps.
"""

from django.db import models


class GuaranteeKind(models.TextChoices):
    """The three guarantees a surety company delivers electronically (契約保証予約 never is)."""

    ADVANCE = "advance", "前払金保証"
    CONTRACT = "contract", "契約保証"
    INTERMEDIATE = "intermediate", "中間前払金保証"


class ContractMethod(models.TextChoices):
    GENERAL = "general", "一般競争入札"
    DESIGNATED = "designated", "指名競争入札"
    NEGOTIATED = "negotiated", "随意契約"


class WorkCategory(models.TextChoices):
    CONSTRUCTION = "construction", "工事"
    CONSULTING = "consulting", "設計・調査・測量"


class SubmissionChannel(models.TextChoices):
    """How a guarantee reaches the orderer, per kind (the orderer's policy). INBOX: esure
    delivers each version to the office's 受信箱 at conclusion, no key needed (decision
    0018); without it the key path stays (the contractor hands over the key notice)."""

    INBOX = "inbox", "esureの受信箱へ自動で交付"
    CARRY = "carry", "持参"
    FAX = "fax", "FAX"
    EMAIL = "email", "メール"
    ONLINE_FORM = "online_form", "電子申請フォーム"
    HANDOVER = "handover", "esureで電子提出"


class Delivery(models.TextChoices):
    """保証証書の受取方法: chosen on the application, kept on the guarantee."""

    ELECTRONIC = "electronic", "電子交付"
    PAPER = "paper", "書面交付"
