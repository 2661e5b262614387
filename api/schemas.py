"""The API's typed shapes (Pydantic, through django-ninja): what the OpenAPI schema states.

Amounts are integers (whole yen); dates are ISO 8601 with their 和暦 beside them
(`*_wareki`, esure.wareki.to_wareki); times are ISO 8601 with offset.
"""

import datetime
from typing import Literal

from ninja import Field, Schema


class Problem(Schema):
    """RFC 9457 problem details (application/problem+json), title and detail in Japanese."""

    type: str = Field("about:blank", description="問題の種類（URI）")
    title: str = Field(..., description="問題の要約（日本語）")
    status: int = Field(..., description="HTTP ステータスコード")
    detail: str = Field("", description="この応答についての説明（日本語）")


class VerifyIn(Schema):
    """保証契約番号 and 認証キー as printed on the key notice (full-width, lower case, spaces
    and any dash accepted, as in D-Sure)."""

    number: str = Field(..., max_length=64, description="保証契約番号（例: 08-1-0000001-2）")
    key: str = Field(..., max_length=64, description="認証キー（例: ABCD-EFGH-JKMN-PQRS）")


class DateValue(Schema):
    iso: datetime.date = Field(..., description="ISO 8601")
    wareki: str = Field(..., description="和暦（例: 令和8年11月20日）")


class Party(Schema):
    name: str


class Contractor(Schema):
    name: str = Field(..., description="受注者（保証契約者）の商号")
    corporate_number: str = Field(..., description="法人番号（13桁）")


class WorkOut(Schema):
    number: str = Field(..., description="工事番号")
    name: str = Field(..., description="工事名")
    location: str = Field(..., description="工事場所")
    price: int = Field(..., description="請負代金額（円、整数）")
    contract_date: DateValue = Field(..., description="契約日")
    start_date: DateValue = Field(..., description="工期（自）")
    end_date: DateValue = Field(..., description="工期（至）")


class VersionSummary(Schema):
    version: int = Field(..., description="版（1 = 当初）")
    issued_at: datetime.datetime = Field(..., description="発行日時")
    change_summary: str = Field(..., description="変更内容（当初は空）")
    amount: int = Field(..., description="保証金額（円、整数）")
    starts_on: DateValue = Field(..., description="保証期間（自）")
    ends_on: DateValue = Field(..., description="保証期限")
    fingerprint: str = Field(..., description="内容の指紋: canonical_json の SHA-256（16進）")
    pdf_sha256: str | None = Field(None, description="保存されたPDFの SHA-256（16進）")


class GuaranteeOut(Schema):
    number: str = Field(..., description="保証契約番号（11桁）")
    number_display: str = Field(..., description="保証契約番号（印字形式）")
    kind: str = Field(..., description="保証の種類: advance / contract / intermediate")
    kind_label: str = Field(..., description="保証の種類（日本語）")
    status: Literal["valid", "changed", "cancelled", "completed", "expired"] = Field(
        ..., description="状態: valid / changed / cancelled / completed / expired"
    )
    status_label: str = Field(..., description="状態（有効 / 変更あり / 解約 / 完了 / 期間満了）")
    orderer: Party = Field(..., description="発注者（被保証者）")
    office: Party = Field(..., description="発注機関・担当課")
    contractor: Contractor
    work: WorkOut = Field(..., description="工事（現在の版の内容）")
    amount: int = Field(..., description="保証金額（円、整数）: 現在の版")
    starts_on: DateValue = Field(..., description="保証期間（自）: 現在の版")
    ends_on: DateValue = Field(..., description="保証期限: 現在の版")
    current_version: int
    concluded_at: datetime.datetime = Field(..., description="締結日時")
    cancelled_at: datetime.datetime | None = Field(None, description="解約日時")
    completed_on: DateValue | None = Field(
        None, description="完成日（完成検査・引渡し）: 記録されると状態は completed"
    )
    versions: list[VersionSummary]


class VersionOut(VersionSummary):
    number: str = Field(..., description="保証契約番号（11桁）")
    content: dict = Field(..., description="電子証書の内容（発行時に固定）")
    canonical_json: str = Field(
        ...,
        description="指紋の対象: content をキー順・空白なし・UTF-8 で直列化した文字列。"
        "その SHA-256 が fingerprint",
    )


class OfficeAnswer(Schema):
    status: str = Field(
        ..., description="この発注機関の最新の版への応答: delivered（未受領）/ received / returned"
    )
    version: int = Field(..., description="その応答の対象の版")


class GuaranteeListItem(Schema):
    number: str = Field(..., description="保証契約番号（11桁）")
    number_display: str = Field(..., description="保証契約番号（印字形式）")
    kind: str = Field(..., description="保証の種類: advance / contract / intermediate")
    kind_label: str = Field(..., description="保証の種類（日本語）")
    status: Literal["valid", "changed", "cancelled", "completed", "expired"] = Field(
        ..., description="状態: valid / changed / cancelled / completed / expired"
    )
    status_label: str = Field(..., description="状態（有効 / 変更あり / 解約 / 完了 / 期間満了）")
    work_number: str = Field(..., description="工事番号")
    work_name: str = Field(..., description="工事名")
    contractor_name: str = Field(..., description="受注者（保証契約者）の商号")
    amount: int = Field(..., description="保証金額（円、整数）: 現在の版")
    starts_on: DateValue = Field(..., description="保証期間（自）: 現在の版")
    ends_on: DateValue = Field(..., description="保証期限: 現在の版")
    current_version: int
    answer: OfficeAnswer = Field(..., description="この発注機関の受領・返戻の状況")
    updated_at: datetime.datetime = Field(
        ...,
        description="最終更新日時: 最新の版の発行・この発注機関への交付・解約・完成・"
        "受領/返戻のうち最も新しいもの",
    )
    key_required: bool = Field(
        ...,
        description="true: 交付・電子提出はされておらず、この発注機関の利用者が認証キーで閲覧した"
        "保証（D-Sure の受信箱と同じ）。内容・版・PDF は POST /verify に認証キーを添えて取得し、"
        "GET /guarantees/{number} と受領・返戻は 404 です。",
    )


class GuaranteeList(Schema):
    items: list[GuaranteeListItem]
    next: str | None = Field(
        None, description="次のページの URL（パスとクエリ）。最後のページでは null"
    )
    next_cursor: str | None = Field(
        None, description="次のページのカーソル（cursor に渡す）。最後のページでは null"
    )


class ReceiptIn(Schema):
    note: str = Field("", max_length=1000, description="受領のメモ（任意）")


class ReturnIn(Schema):
    reason: str = Field(
        ...,
        min_length=1,
        max_length=1000,
        pattern=r"\S",  # not only spaces: the service strips them (MSG_RETURN_REASON)
        description="返戻の理由（必須、空白以外の文字を含む1000文字まで）",
    )


class AnswerOut(Schema):
    number: str = Field(..., description="保証契約番号（11桁）")
    version: int = Field(..., description="応答した版")
    status: str = Field(..., description="received（受領）/ returned（返戻）")
    status_label: str = Field(..., description="受領 / 返戻")
    decided_at: datetime.datetime = Field(..., description="受領・返戻の日時")
    note: str = Field(..., description="受領のメモ、または返戻の理由")
