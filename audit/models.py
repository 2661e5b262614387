"""The audit trail: business events in one append-only, hash-chained sequence.

Each event stores the SHA-256 of its own content and the previous event's hash, so altering
or removing a row breaks the chain (`manage.py verify_audit`). PostgreSQL refuses UPDATE,
DELETE and TRUNCATE of the events by trigger (migration audit/0002, decision 0006). The app
imports none of the other apps: anyone may record, it knows nobody.
"""

import datetime
import hashlib
import json

from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64  # the prev_hash of event 1


class AuditEvent(models.Model):
    """One business event: who did what to which object, when. Never updated or deleted."""

    class Action(models.TextChoices):
        APPLICATION_SUBMITTED = "application.submitted", "申込: 提出"
        APPLICATION_WITHDRAWN = "application.withdrawn", "申込: 取下げ"
        APPLICATION_RETURNED = "application.returned", "申込: 差戻し"
        APPLICATION_DECLINED = "application.declined", "申込: 謝絶"
        APPLICATION_APPROVED = "application.approved", "申込: 承認"
        APPLICATION_CONCLUDED = "application.concluded", "申込: 締結"
        GUARANTEE_CONCLUDED = "guarantee.concluded", "保証契約: 締結"
        GUARANTEE_CHANGED = "guarantee.changed", "保証契約: 変更"
        GUARANTEE_CANCELLED = "guarantee.cancelled", "保証契約: 解約"
        KEY_SHOWN = "key.shown", "認証キー: 表示"
        KEY_REISSUED = "key.reissued", "認証キー: 再発行"
        DSURE_LOCK_CLEARED = "dsure.lock_cleared", "D-Sure: 入力制限の解除"
        NUMBERS_RESERVED = "numbers.reserved", "保証契約番号: 欠番として確保（復旧時）"
        COMPANY_VERIFIED = "company.verified", "受注者: 確認済"
        COMPANY_SUSPENDED = "company.suspended", "受注者: 利用停止"
        STAFF_LOGIN = "staff.login", "職員: ログイン"
        STAFF_LOGIN_FAILED = "staff.login_failed", "職員: ログイン失敗"
        BANK_USER_INVITED = "bank_user.invited", "金融機関の利用者: 招待"
        BANK_USER_JOINED = "bank_user.joined", "金融機関の利用者: 参加"
        ADVANCE_ACCOUNT_REGISTERED = "advance_account.registered", "前払金専用口座: 登録"
        USE_PLAN_SUBMITTED = "use_plan.submitted", "使途内訳明細書: 提出"
        USE_PLAN_ACCEPTED = "use_plan.accepted", "使途内訳明細書: 承認"
        USE_PLAN_RETURNED = "use_plan.returned", "使途内訳明細書: 差戻し"
        USE_PLAN_SUPERSEDED = "use_plan.superseded", "使途内訳明細書: 変更により旧版"
        USE_PLAN_WITHDRAWN = "use_plan.withdrawn", "使途内訳明細書: 取下げ"
        WITHDRAWAL_SUBMITTED = "withdrawal.submitted", "払出依頼: 金融機関へ送信"
        WITHDRAWAL_CASH_REVIEW = "withdrawal.cash_review", "払出依頼: 現金払出の承認依頼"
        WITHDRAWAL_CONFIRMED = "withdrawal.confirmed", "払出依頼: 金融機関が確認"
        WITHDRAWAL_REJECTED = "withdrawal.rejected", "払出依頼: 不承認"
        WITHDRAWAL_CANCELLED = "withdrawal.cancelled", "払出依頼: 取下げ"
        WITHDRAWAL_EXECUTED = "withdrawal.executed", "払出依頼: 払出済（払出報告）"
        WITHDRAWAL_VOIDED = "withdrawal.voided", "払出依頼: 取消（指定解除）"
        DEPOSIT_RECORDED = "deposit.recorded", "前払金専用口座: 入金"
        BANK_IMPORT_IMPORTED = "bank_import.imported", "払出報告: CSV取込"
        INSPECTION_OPENED = "inspection.opened", "監査: 開始"
        INSPECTION_CLOSED = "inspection.closed", "監査: 完了"
        API_TOKEN_CREATED = "api_token.created", "APIトークン: 作成"
        API_TOKEN_REVOKED = "api_token.revoked", "APIトークン: 失効"
        WEBHOOK_CREATED = "webhook.created", "Webhook: 送信先の登録"
        WEBHOOK_DISABLED = "webhook.disabled", "Webhook: 送信先の停止"
        WEBHOOK_ENABLED = "webhook.enabled", "Webhook: 送信先の再開"
        WEBHOOK_RESENT = "webhook.resent", "Webhook: 再送"
        SUBMISSION_DELIVERED = "submission.delivered", "電子証書: 発注者へ交付"
        SUBMISSION_RECEIVED = "submission.received", "電子証書: 発注者が受領"
        SUBMISSION_RETURNED = "submission.returned", "電子証書: 発注者が返戻"
        OFFICE_USER_INVITED = "office_user.invited", "発注者の利用者: 招待"
        OFFICE_USER_JOINED = "office_user.joined", "発注者の利用者: 参加"
        OFFICE_USER_ASSIGNED = "office_user.assigned", "発注者の利用者: 担当課の割当"
        OFFICE_USER_REMOVED = "office_user.removed", "発注者の利用者: 削除"
        STATEMENT_IMPORTED = "statement.imported", "入出金明細: 取込"
        MEMBER_DUTY = "member.duty", "受注者の利用者: 役割の変更"
        JOINT_VENTURE_REGISTERED = "joint_venture.registered", "共同企業体: 登録"
        DOCUMENT_TIMESTAMP_EXTENDED = "document.timestamp_extended", "電子証書: タイムスタンプ延長"
        RESERVATION_SUBMITTED = "reservation.submitted", "契約保証予約: 提出"
        RESERVATION_APPROVED = "reservation.approved", "契約保証予約: 承認"
        RESERVATION_DECLINED = "reservation.declined", "契約保証予約: 謝絶"
        RESERVATION_USED = "reservation.used", "契約保証予約: 使用（申込を作成）"
        RESERVATION_LAPSED = "reservation.lapsed", "契約保証予約: 期限切れ"
        RESERVATION_PRINTED = "reservation.printed", "契約保証予約: 予約証書を印刷済"
        RESERVATION_RETURNED = "reservation.returned", "契約保証予約: 申込の取下げ・謝絶により返却"
        CLAIM_FILED = "claim.filed", "保証金の請求: 受付"
        CLAIM_MORE_DOCUMENTS_REQUESTED = (
            "claim.more_documents_requested",
            "保証金の請求: 書類の追加依頼",
        )
        CLAIM_RESUBMITTED = "claim.resubmitted", "保証金の請求: 書類の再提出"
        CLAIM_APPROVED = "claim.approved", "保証金の請求: 支払決定"
        CLAIM_REFUSED = "claim.refused", "保証金の請求: お支払いできない（謝絶）"
        CLAIM_PAID = "claim.paid", "保証金の請求: 支払済"
        GUARANTEE_COMPLETED = "guarantee.completed", "保証契約: 完成（完了）"
        ADVANCE_ACCOUNT_RELEASED = "advance_account.released", "前払金専用口座: 指定解除"
        REFUND_DUE = "refund.due", "前払金の返還: 減額による超過額"
        REFUND_RETURNED = "refund.returned", "前払金の返還: 返還済"

    seq = models.BigIntegerField("連番", primary_key=True)  # 1..n, no gap
    at = models.DateTimeField("日時", default=timezone.now)
    # A plain number, not a foreign key: the row must never change when a user does.
    actor_id = models.BigIntegerField("実行者ID", null=True, blank=True)
    actor = models.CharField("実行者", max_length=254)
    action = models.CharField("操作", max_length=40, choices=Action.choices)
    object_type = models.CharField("対象の種類", max_length=60, blank=True)
    object_id = models.CharField("対象ID", max_length=60, blank=True)
    data = models.JSONField("内容", default=dict, blank=True)
    prev_hash = models.CharField("前の行のハッシュ", max_length=64)
    hash = models.CharField("ハッシュ", max_length=64)

    class Meta:
        verbose_name = "監査証跡"
        verbose_name_plural = "監査証跡"
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_id"], name="audit_event_object_id")]

    def __str__(self):
        return f"#{self.seq} {self.action}"

    def save(self, *args, **kwargs):
        # Append-only: the only write is the first insert (PostgreSQL enforces it too).
        if not self._state.adding:
            raise ValueError("an audit event is immutable")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("an audit event is never deleted")

    def compute_hash(self):
        return event_hash(
            seq=self.seq,
            at=self.at,
            actor_id=self.actor_id,
            actor=self.actor,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            data=self.data,
            prev_hash=self.prev_hash,
        )


class AuditHead(models.Model):
    """The chain's one head row (pk=1): the last seq and hash. Appending locks it, so events
    are chained one after another even from parallel transactions; comparing it with the
    last event reveals a deleted tail."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = "監査証跡の先頭"
        verbose_name_plural = "監査証跡の先頭"

    def __str__(self):
        return f"#{self.last_seq} {self.last_hash[:12]}…"


def canonical(*, seq, at, actor_id, actor, action, object_type, object_id, data, prev_hash):
    """The bytes an event's hash covers: canonical JSON (sorted keys, no spaces, UTF-8),
    the time in UTC with microseconds — the same bytes from a row as from its writer."""
    content = {
        "seq": seq,
        "at": at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data": data,
        "prev_hash": prev_hash,
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode()


def event_hash(**fields):
    return hashlib.sha256(canonical(**fields)).hexdigest()
