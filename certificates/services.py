"""The registry's writes: issue a guarantee and its versions, re-issue its key, record key
displays, and submit versions to orderer offices (提出) with their 受領 and 返戻.

Called by the faces (the workflow, D-Sure, the contractor's pages) with plain values and
model instances; knows nothing of them.
"""

import contextlib
import contextvars
import datetime
import hashlib
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.selectors import require_approver
from audit import services as audit
from certificates import content as certificate_content
from certificates import (
    keys,
    notifications,
    pdf,
    rules,
    seal,
    selectors,
    signals,
    tasks,
    turns,
)
from certificates.models import (
    SUBMISSION_ALLOWED,
    Certificate,
    Document,
    Guarantee,
    KeyDisplay,
    KeyReissue,
    NumberCounter,
    OfficeAlert,
    OfficeAlertSeen,
    Refund,
    Submission,
    SubmissionEvent,
)
from certificates.numbering import KIND_DIGITS, make_number, parse_number
from esure import metrics
from esure.choices import GuaranteeKind, SubmissionChannel
from esure.wareki import fiscal_year_reiwa, to_wareki, yen
from esure.workflow import Workflow

logger = logging.getLogger(__name__)


class KeyNotAvailable(Exception):
    """A 書面交付 guarantee has no 認証キー."""


def allocate_number(*, kind, day):
    """The next 保証契約番号 for the 年度 of `day` and the kind: gapless and unique.

    Must run inside the caller's transaction: the counter row stays locked until it
    commits, and a rollback gives the serial back (no gap).
    """
    fiscal_year = fiscal_year_reiwa(day)
    digit = KIND_DIGITS[kind]
    try:
        with transaction.atomic():
            NumberCounter.objects.get_or_create(fiscal_year=fiscal_year, kind_digit=digit)
    except IntegrityError:
        pass  # created at the same moment by a concurrent conclusion
    counter = NumberCounter.objects.select_for_update().get(
        fiscal_year=fiscal_year, kind_digit=digit
    )
    counter.last_serial += 1
    counter.save(update_fields=["last_serial"])
    return make_number(fiscal_year, kind, counter.last_serial)


def reserve_numbers(*, numbers, by=None):
    """Never give these 保証契約番号 again: raise each (年度, kind) counter to at least the
    highest serial among them (a counter already past it stays). For the numbers of
    conclusions that a restore lost (certificates.integrity.lost_numbers): a gap in the
    serials is the lesser harm than one number on two guarantees. Returns the counters
    raised as {(fiscal_year, kind_digit): (old, new)}."""
    highest = {}
    for number in numbers:
        parsed = parse_number(number)
        if parsed is None:
            raise ValueError(f"not a 保証契約番号 that can be issued: {number!r}")
        slot = (parsed.fiscal_year, KIND_DIGITS[parsed.kind])
        highest[slot] = max(highest.get(slot, 0), parsed.serial)
    raised = {}
    with transaction.atomic():
        for (fiscal_year, digit), serial in sorted(highest.items()):
            counter, _ = NumberCounter.objects.select_for_update().get_or_create(
                fiscal_year=fiscal_year, kind_digit=digit
            )
            if counter.last_serial < serial:
                raised[(fiscal_year, digit)] = (counter.last_serial, serial)
                counter.last_serial = serial
                counter.save(update_fields=["last_serial"])
        if raised:
            audit.record(
                actor=by,
                action="numbers.reserved",
                object_type="certificates.numbercounter",
                data={
                    "numbers": sorted(numbers),
                    "raised": {f"{y:02d}-{d}": list(v) for (y, d), v in raised.items()},
                },
            )
    return raised


_stored_files = contextvars.ContextVar("esure_stored_files", default=None)


@contextlib.contextmanager
def discard_files_on_failure():
    """Wrap a transaction that stores PDFs: if it fails (even at commit), the files it wrote
    are deleted, so a rolled-back conclusion leaves nothing in storage either."""
    names = []
    token = _stored_files.set(names)
    try:
        yield
    except BaseException:
        for name in names:
            try:
                Document.file.field.storage.delete(name)
            except Exception:  # the store may be what failed: keep the original error
                logger.warning("could not delete %s after a failed conclusion", name)
        raise
    finally:
        _stored_files.reset(token)


# What staff read when a conclusion (or change) could not store its PDFs (decision 0017).
MSG_STORAGE_FAILED = (
    "PDFを文書の保管先（ストレージ）に保存できませんでした。締結は行っておらず、"
    "保証契約番号も使っていません。保管先が復旧してから、もう一度同じ操作をしてください。"
)


# ... and what they read when the eシール could not sign them (the TSA did not answer, the
# seal's certificate is revoked or expired): the same promise, another cause to fix.
MSG_SEALING_FAILED = (
    "PDFにeシール（電子署名とタイムスタンプ）を付けられませんでした。締結は行っておらず、"
    "保証契約番号も使っていません。タイムスタンプ局とeシールの設定を確認してから、"
    "もう一度同じ操作をしてください。"
)


class StorageError(Exception):
    """A rendered PDF could not be sealed or stored (the TSA, the disk or the bucket refused or
    did not answer). Raised inside the conclusion's transaction, which then rolls back as a
    whole; its message is what staff read."""


def seal_document(*, kind, data, number):
    """Sign a rendered PDF with the eシール (the 保証証書 with its visible stamp); StorageError
    with what staff read when it cannot (`number` names the guarantee in the log)."""
    try:
        return seal.sign_pdf(data, stamp=kind == Document.Kind.CERTIFICATE)
    except seal.SealError as error:
        logger.exception("could not seal the %s of %s", kind, number)
        metrics.DOCUMENT_ERRORS.labels("sign").inc()
        raise StorageError(MSG_SEALING_FAILED) from error


def save_document(*, certificate, kind, data):
    """Store sealed bytes through the storage API with their SHA-256: the original, which
    D-Sure and the contractor's pages serve as stored."""
    digest = hashlib.sha256(data).hexdigest()
    document = Document(certificate=certificate, kind=kind, sha256=digest, size=len(data))
    name = f"{certificate.guarantee.number}-v{certificate.version}-{kind}.pdf"
    try:
        document.file.save(name, ContentFile(data), save=False)
    except Exception as error:  # OSError from a disk, botocore's errors from a bucket
        logger.exception("could not store %s", name)
        metrics.DOCUMENT_ERRORS.labels("store").inc()
        raise StorageError(MSG_STORAGE_FAILED) from error
    written = _stored_files.get()
    if written is not None:
        written.append(document.file.name)
    document.save()
    return document


def store_document(*, certificate, kind, data):
    """Seal a rendered PDF and store it (seal_document, save_document)."""
    sealed = seal_document(kind=kind, data=data, number=certificate.guarantee.number)
    return save_document(certificate=certificate, kind=kind, data=sealed)


# Produced after the conclusion commits, by the worker (decision 0033), at once or from the
# evening (decision 0052), or on the contractor's first download, whichever comes first; every
# other kind of a version is stored in its issuing transaction.
AFTER_COMMIT_KINDS = (Document.Kind.CUSTOMER_COPY, Document.Kind.FEE_STATEMENT)


def produce_documents(*, certificate, kinds=AFTER_COMMIT_KINDS):
    """Render, sign and store those of `kinds` (after-commit kinds) that a version does not
    have yet (the お客様控え and 保証料計算書 of a conclusion, after its commit). Idempotent:
    what is stored already is skipped, and a document stored meanwhile by another producer
    wins (the unique original per version and kind, `document_unique`): this one's file is
    deleted. Returns the kinds it stored. A failure (rendering, seal, storage) raises; the
    task retries."""
    stored = set(
        Document.objects.filter(certificate=certificate, extends=None).values_list(
            "kind", flat=True
        )
    )
    missing = [kind for kind in kinds if kind in AFTER_COMMIT_KINDS and kind not in stored]
    if not missing:
        return []
    produced = []
    for kind, data in pdf.render_issuance_documents(certificate, kinds=missing).items():
        try:
            with discard_files_on_failure(), transaction.atomic():
                store_document(certificate=certificate, kind=kind, data=data)
        except IntegrityError:
            logger.info("%s of certificate %s was stored meanwhile", kind, certificate.pk)
            continue
        produced.append(kind)
    return produced


def document_for_download(*, guarantee, version, kind):
    """The document a contractor downloads (selectors.get_document: the newest of its kind);
    an お客様控え or 保証料計算書 its worker has not produced yet is produced now, exactly
    once (produce_documents), so a copy is never 作成中 (decision 0052). 404 for a version or
    kind the guarantee does not have; StorageError when it cannot be made now (the seal, the
    TSA or the store is down): nothing is stored, a later download tries again."""
    try:
        return selectors.get_document(guarantee, version, kind)
    except Http404:
        if kind not in AFTER_COMMIT_KINDS:
            raise
    certificate = get_object_or_404(
        Certificate.objects.select_related("guarantee"), guarantee=guarantee, version=version
    )
    produce_documents(certificate=certificate, kinds=[kind])
    return selectors.get_document(guarantee, version, kind)


def produce_missing_documents(*, issued_before=None):
    """produce_documents for every version still lacking an after-commit document (a worker
    that died, a task that failed for good), oldest first; one failure does not stop the
    others. Returns (certificates completed, certificates that failed again)."""
    done, failed = [], []
    for certificate in selectors.certificates_missing_documents(
        AFTER_COMMIT_KINDS, issued_before=issued_before
    ).iterator():
        try:
            produce_documents(certificate=certificate)
        except Exception:
            logger.exception("documents of certificate %s could not be produced", certificate.pk)
            failed.append(certificate)
        else:
            done.append(certificate)
    return done, failed


def extend_document(*, document, by=None):
    """Add a document timestamp (PAdES B-LTA) to a stored PDF, append-only: the new bytes are
    computed from a copy, stored under a new name, and recorded as a new Document that
    `extends` the old one (whose file and hash stay); from then on the new one is served.
    Refused for a record already extended. Returns the new Document."""
    with document.file.open("rb") as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != document.sha256:
        raise ValueError(f"document {document.pk}: stored bytes differ from the recorded SHA-256")
    extended = seal.add_document_timestamp(data)
    with discard_files_on_failure(), transaction.atomic():
        old = Document.objects.select_for_update().get(pk=document.pk)
        if Document.objects.filter(extends=old).exists():
            raise ValueError(f"document {old.pk} is already extended")
        digest = hashlib.sha256(extended).hexdigest()
        new = Document(
            certificate=old.certificate,
            kind=old.kind,
            sha256=digest,
            size=len(extended),
            extends=old,
        )
        generation = (
            1
            + Document.objects.filter(certificate=old.certificate, kind=old.kind)
            .exclude(extends=None)
            .count()
        )
        certificate = old.certificate
        name = (
            f"{certificate.guarantee.number}-v{certificate.version}-{old.kind}-lta{generation}.pdf"
        )
        try:
            new.file.save(name, ContentFile(extended), save=False)
        except Exception as error:
            logger.exception("could not store %s", name)
            raise StorageError(MSG_STORAGE_FAILED) from error
        written = _stored_files.get()
        if written is not None:
            written.append(new.file.name)
        new.save()
        audit.record(
            actor=by,
            action="document.timestamp_extended",
            obj=new,
            data={"extends": old.pk, "sha256": digest, "previous_sha256": old.sha256},
        )
    return new


@dataclass(frozen=True)
class Terms:
    """What one guarantee of a conclusion states (its kind, amount, period and fee)."""

    kind: str
    amount: int
    starts_on: datetime.date
    ends_on: datetime.date
    fee: dict


@dataclass(frozen=True)
class _Draft:
    """A guarantee's Certificate v1 content and its sealed 保証証書 for one number."""

    number: str
    content: dict
    fingerprint: str
    pdf: bytes


def _draft(*, number, company, work, delivery, terms, issued_at):
    """Certificate v1's content for `number`, and its 保証証書 rendered and sealed: no row is
    written and nothing is locked (the guarantee and certificate it renders are unsaved)."""
    content = certificate_content.build_content(
        number=number,
        kind=terms.kind,
        version=1,
        issued_at=issued_at,
        company=company,
        work=work,
        orderer=work.orderer,
        office=work.office,
        amount=terms.amount,
        starts_on=terms.starts_on,
        ends_on=terms.ends_on,
        fee=terms.fee,
        surety_name=settings.ESURE_SURETY_NAME,
        delivery=delivery,
    )
    fingerprint = certificate_content.fingerprint(content)
    unsaved = Certificate(
        guarantee=Guarantee(number=number, kind=terms.kind, company=company, work=work),
        version=1,
        content=content,
        fingerprint=fingerprint,
        issued_at=issued_at,
    )
    kind = Document.Kind.CERTIFICATE
    data = pdf.render_issuance_documents(unsaved, kinds=[kind])[kind]
    return _Draft(number, content, fingerprint, seal_document(kind=kind, data=data, number=number))


def issue_guarantees(*, company, work, delivery, terms, issued_at=None, by=None):
    """Conclude the guarantees of one application, one per Terms: for each a number,
    Certificate v1 (content + fingerprint) and its sealed 保証証書, stored.

    Runs in the caller's transaction: if rendering, sealing or storing a 保証証書 fails,
    everything rolls back, the numbers included. Each 保証証書 is rendered and sealed before
    its (年度, kind) counter is locked, for the serial this conclusion's turn gives
    (certificates.turns, decision 0053); under the lock it is made again only when the number
    turned out otherwise. The お客様控え and 保証料計算書 are produced after commit by the
    worker (produce_documents, queued here: at once, or from ESURE_DEFERRED_DOCUMENTS_FROM,
    decision 0052) or on first download. An electronic guarantee gets key version 1 — the key
    itself is derived, never stored (certificates.keys). `by` (the staff member who concluded
    it) is named in the audit trail. Returns the guarantees in the order of `terms`.
    """
    issued_at = issued_at or timezone.now()
    day = timezone.localdate(issued_at)
    fiscal_year = fiscal_year_reiwa(day)
    parties = {"company": company, "work": work, "delivery": delivery, "issued_at": issued_at}
    with transaction.atomic():
        turn = turns.take([(fiscal_year, KIND_DIGITS[t.kind]) for t in terms])
        drafts = [
            _draft(
                number=make_number(
                    fiscal_year, t.kind, turn.serial(fiscal_year, KIND_DIGITS[t.kind])
                ),
                terms=t,
                **parties,
            )
            for t in terms
        ]
        turn.wait()
        guarantees = []
        for t, draft in zip(terms, drafts, strict=True):
            number = allocate_number(kind=t.kind, day=day)
            if number != draft.number:  # one ahead rolled back, or took a number without a turn
                metrics.NUMBER_GUESSES.labels("missed").inc()
                draft = _draft(number=number, terms=t, **parties)
            else:
                metrics.NUMBER_GUESSES.labels("right").inc()
            guarantees.append(_conclude(draft, terms=t, by=by, **parties))
    return guarantees


def _conclude(draft, *, company, work, delivery, terms, issued_at, by):
    """The rows of one guarantee whose number is allocated (draft.number), in the conclusion."""
    guarantee = Guarantee.objects.create(
        number=draft.number,
        kind=terms.kind,
        company=company,
        work=work,
        orderer=work.orderer,
        office=work.office,
        delivery=delivery,
        key_version=1 if delivery == Guarantee.Delivery.ELECTRONIC else 0,
        key_salt=keys.new_salt(),
        concluded_at=issued_at,
    )
    certificate = Certificate.objects.create(
        guarantee=guarantee,
        version=1,
        content=draft.content,
        fingerprint=draft.fingerprint,
        amount=terms.amount,
        starts_on=terms.starts_on,
        ends_on=terms.ends_on,
        issued_at=issued_at,
    )
    save_document(certificate=certificate, kind=Document.Kind.CERTIFICATE, data=draft.pdf)
    # The お客様控え and 保証料計算書 follow after commit (decision 0033), at once or from the
    # evening (0052): a task row in this transaction.
    tasks.produce_documents.using(
        run_after=rules.documents_due(issued_at, settings.ESURE_DEFERRED_DOCUMENTS_FROM)
    ).enqueue(certificate_id=certificate.pk)
    deliver_new_version(certificate=certificate)
    audit.record(
        actor=by,
        action="guarantee.concluded",
        obj=guarantee,
        data={
            "number": draft.number,
            "kind": terms.kind,
            "version": 1,
            "amount": terms.amount,
            "delivery": delivery,
            "key_version": guarantee.key_version,
            "fingerprint": certificate.fingerprint,
        },
    )
    transaction.on_commit(metrics.CONCLUSIONS.inc)  # a rolled-back one never counts
    return guarantee


def current_key(guarantee):
    """The guarantee's 認証キー, printed XXXX-XXXX-XXXX-XXXX (derived on demand)."""
    if not guarantee.has_key:
        raise KeyNotAvailable(guarantee.number)
    key = keys.derive_key(guarantee.number, guarantee.key_version, salt=guarantee.key_salt)
    return keys.format_key(key)


def record_key_display(*, guarantee, user, via):
    """The contractor saw the key (on screen or in the notice PDF): who and when, not what.
    Only a 承認者 of the company may (PermissionDenied otherwise: nothing is shown)."""
    require_approver(user, guarantee.company)
    if not guarantee.has_key:
        raise KeyNotAvailable(guarantee.number)
    with transaction.atomic():
        display = KeyDisplay.objects.create(
            guarantee=guarantee, user=user, via=via, key_version=guarantee.key_version
        )
        audit.record(
            actor=user,
            action="key.shown",
            obj=guarantee,
            data={"number": guarantee.number, "via": via, "key_version": guarantee.key_version},
        )
    return display


def reissue_key(*, guarantee, by, reason=""):
    """A new key for the guarantee; the previous one stops verifying at once."""
    with transaction.atomic():
        guarantee = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
        if not guarantee.has_key:
            raise KeyNotAvailable(guarantee.number)
        guarantee.key_version += 1
        guarantee.save(update_fields=["key_version"])
        KeyReissue.objects.create(
            guarantee=guarantee, new_version=guarantee.key_version, by=by, reason=reason
        )
        audit.record(
            actor=by,
            action="key.reissued",
            obj=guarantee,
            data={
                "number": guarantee.number,
                "key_version": guarantee.key_version,
                "reason": reason[:200],
            },
        )
        notifications.key_reissued(guarantee)
    return guarantee


def mark_printed(*, guarantee):
    """Staff printed the paper certificate of a 書面交付 guarantee."""
    Guarantee.objects.filter(
        pk=guarantee.pk, delivery=Guarantee.Delivery.PAPER, printed_at=None
    ).update(printed_at=timezone.now())


# What a change may touch: the issue_change argument → its content path and the label
# printed in the 変更内容 table, in the order the table lists them.
CHANGEABLE = {
    "price": ("work.price", "請負代金額"),
    "work_end": ("work.end_date", "工期（至）"),
    "amount": ("guarantee.amount", "保証金額"),
    "ends_on": ("guarantee.ends_on", "保証期限"),
}


def _plain(value):
    """A content value: yen stay ints, dates become ISO text (as in build_content)."""
    return value.isoformat() if isinstance(value, datetime.date) else value


def _shown(value):
    """A changed value as people read it: 金額 with commas, dates in 和暦."""
    if isinstance(value, int):
        return yen(value)
    return to_wareki(datetime.date.fromisoformat(value))


def issue_change(
    *,
    guarantee,
    label,
    fee,
    price=None,
    work_end=None,
    amount=None,
    ends_on=None,
    cancelled_on=None,
    reason="",
    issued_at=None,
    by=None,
):
    """Certificate v(n+1) of a guarantee (変更保証証書), append-only: v(n) stays as it was.

    The new terms are the keyword values given (price, work_end, amount, ends_on: ints and
    dates; None keeps the current one); the changed ones are listed with their previous
    values, and the version's change summary is `label` (e.g. 増額) followed by each of them
    (請負代金額 12,345,000円→14,000,000円). `fee` is the statement of the change (additional
    fee or refund). `cancelled_on` (a date) marks the final version of a 解約 and the
    guarantee as cancelled. Runs in the caller's transaction; PDFs as at issuance. `by`
    (the staff member) is named in the audit trail.
    """
    issued_at = issued_at or timezone.now()
    new_terms = {"price": price, "work_end": work_end, "amount": amount, "ends_on": ends_on}
    with transaction.atomic():
        guarantee = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
        if guarantee.cancelled_at is not None:
            raise ValueError(f"guarantee {guarantee.number} is cancelled")
        if guarantee.completed_on is not None:
            raise ValueError(f"guarantee {guarantee.number} is completed")
        previous = guarantee.certificates.order_by("-version").first()
        content = json.loads(json.dumps(previous.content))  # a deep copy of plain JSON
        changes = []
        for name, (path, field_label) in CHANGEABLE.items():
            if new_terms[name] is None:
                continue
            section, field = path.split(".")
            old, new = content[section][field], _plain(new_terms[name])
            if old != new:
                changes.append({"field": path, "label": field_label, "old": old, "new": new})
                content[section][field] = new
        summary = "、".join(
            [label, *(f"{c['label']} {_shown(c['old'])}→{_shown(c['new'])}" for c in changes)]
        )
        version = previous.version + 1
        kind = guarantee.kind
        title = certificate_content.TITLES[kind]
        content.update(
            version=version,
            title=("解約" if cancelled_on else "変更") + title,
            issued_at=issued_at.isoformat(),
            fee=fee,
            changes=changes,
        )
        if cancelled_on:
            content["cancellation"] = {"date": cancelled_on.isoformat(), "reason": reason}
        certificate = Certificate.objects.create(
            guarantee=guarantee,
            version=version,
            content=content,
            fingerprint=certificate_content.fingerprint(content),
            amount=content["guarantee"]["amount"],
            starts_on=datetime.date.fromisoformat(content["guarantee"]["starts_on"]),
            ends_on=datetime.date.fromisoformat(content["guarantee"]["ends_on"]),
            issued_at=issued_at,
            change_summary=summary[:200],
        )
        for kind_, data in pdf.render_issuance_documents(certificate).items():
            store_document(certificate=certificate, kind=kind_, data=data)
        if cancelled_on:
            guarantee.cancelled_at = issued_at
            guarantee.save(update_fields=["cancelled_at"])
        delivered = deliver_new_version(certificate=certificate)
        alert_change(certificate=certificate, cancelled=bool(cancelled_on), delivered=delivered)
        audit.record(
            actor=by,
            action="guarantee.cancelled" if cancelled_on else "guarantee.changed",
            obj=guarantee,
            data={
                "number": guarantee.number,
                "version": version,
                "changes": [{k: c[k] for k in ("field", "old", "new")} for c in changes],
                "cancelled_on": cancelled_on.isoformat() if cancelled_on else None,
                "fingerprint": certificate.fingerprint,
            },
        )
    return certificate


# --- 提出: versions in orderer offices' hands, 受領 and 返戻 (decision 0018) ---------------

MSG_SUBMISSION_OFFICE = "提出先は、この保証の発注者の発注機関から選んでください。"
MSG_ALREADY_SUBMITTED = "この版はこの発注機関にすでに提出済みです。"
MSG_RETURN_REASON = "返戻の理由を入力してください。"
MSG_ALREADY_ANSWERED = "この版はすでに{old}しています。"
RETURN_REASON_MAX = 1000

SubmissionStatus = Submission.Status
SUBMISSION = Workflow(
    table=SUBMISSION_ALLOWED,
    history=SubmissionEvent,
    message=MSG_ALREADY_ANSWERED,
    code="already_answered",
)


def deliver(*, certificate, office, channel, by=None, note="", at=None):
    """提出: one certificate version reaches one office of the guarantee's orderer.

    `channel` says how (Submission.Channel); `by` is the contractor's clerk for a hand-over,
    the office user for a version opened with the key, None when esure delivers it. The
    office's users and its notification address are mailed for INBOX and HANDOVER (never
    the key). A version reaches an office once (MSG_ALREADY_SUBMITTED otherwise).
    """
    guarantee = certificate.guarantee
    if office.orderer_id != guarantee.orderer_id:
        raise ValidationError(MSG_SUBMISSION_OFFICE)
    at = at or timezone.now()
    with transaction.atomic():
        if Submission.objects.filter(certificate=certificate, office=office).exists():
            raise ValidationError(MSG_ALREADY_SUBMITTED)
        submission = Submission.objects.create(
            guarantee=guarantee,
            certificate=certificate,
            office=office,
            channel=channel,
            delivered_at=at,
            delivered_by=by,
            note=note,
        )
        SubmissionEvent.objects.create(
            submission=submission,
            new_status=SubmissionStatus.DELIVERED,
            by=by,
            at=at,
            note=note[:1000],
        )
        audit.record(
            actor=by,
            action="submission.delivered",
            obj=submission,
            data={
                "number": guarantee.number,
                "version": certificate.version,
                "office": office.pk,
                "channel": channel,
            },
        )
        if channel != Submission.Channel.KEY:
            notifications.delivered_to_office(submission)
    return submission


MSG_HANDOVER_NOT_ACCEPTED = (
    "この発注機関は esure での電子提出を受け付けていません。認証キー等のお知らせを"
    "発注者の定める方法で提出してください。"
)


def can_hand_over(guarantee, office):
    """発注者へ電子で提出 needs the orderer to accept it for this kind (HANDOVER), an office
    of that orderer with accounts to receive it, and a key-bearing (電子交付) guarantee."""
    return (
        guarantee.has_key
        and office.orderer_id == guarantee.orderer_id
        and SubmissionChannel.HANDOVER in guarantee.orderer.channels_for(guarantee.kind)
        and office.members.exists()
    )


def hand_over(*, guarantee, office, by, note=""):
    """発注者へ電子で提出: the contractor's clerk submits the current version to an office;
    its users open it without the key, and later versions follow (deliver_new_version)."""
    if office.orderer_id != guarantee.orderer_id:
        raise ValidationError(MSG_SUBMISSION_OFFICE)
    if not can_hand_over(guarantee, office):
        raise ValidationError(MSG_HANDOVER_NOT_ACCEPTED)
    current = guarantee.certificates.order_by("-version").first()
    return deliver(
        certificate=current, office=office, channel=Submission.Channel.HANDOVER, by=by, note=note
    )


def deliver_new_version(*, certificate):
    """Deliver a new version of an electronic guarantee, in the issuing transaction: to the
    office that handles its kind (certificates.selectors.submission_office) where the
    orderer's policy says INBOX for the kind, and to every office an earlier version reached
    through esure (INBOX or a hand-over), so each later version follows the first. A 書面交付
    guarantee and an orderer on the key path get nothing. Returns the submissions."""
    guarantee = certificate.guarantee
    if not guarantee.has_key:
        return []
    offices = {}
    if guarantee.orderer.delivers_to_inbox(guarantee.kind):
        office = selectors.submission_office(guarantee)
        if office is not None:
            offices[office.pk] = office
    earlier = (
        Submission.objects.filter(guarantee=guarantee)
        .exclude(channel=Submission.Channel.KEY)
        .exclude(certificate=certificate)
        .select_related("office__orderer")
        .order_by("pk")
    )
    for submission in earlier:
        offices.setdefault(submission.office_id, submission.office)
    return [
        deliver(
            certificate=certificate,
            office=office,
            channel=Submission.Channel.INBOX,
            at=certificate.issued_at,
        )
        for office in offices.values()
    ]


@dataclass(frozen=True)
class OfficeSystem:
    """An orderer office's own system answering for the office through the API (decision
    0032): no person stands behind the call, so the submission names no user and the audit
    trail names `label` (the API token)."""

    office_id: int
    label: str


def _check_office_user(user, office, guarantee):
    """Only a user (or the system, OfficeSystem) of the office answers for it, and only for
    its own orderer's guarantees."""
    if isinstance(user, OfficeSystem):
        if user.office_id != office.pk:
            raise PermissionDenied
    else:
        membership = getattr(user, "office_membership", None)
        if membership is None or membership.office_id != office.pk:
            raise PermissionDenied
    if office.orderer_id != guarantee.orderer_id:
        raise PermissionDenied


def _answer(*, certificate, office, by, to, note):
    guarantee = certificate.guarantee
    _check_office_user(by, office, guarantee)
    system = isinstance(by, OfficeSystem)
    person = None if system else by
    now = timezone.now()
    with transaction.atomic():
        rows = Submission.objects.select_for_update().filter(certificate=certificate, office=office)
        submission = rows.first()
        if submission is None:  # opened with the key, never submitted: answered all the same
            deliver(
                certificate=certificate, office=office, channel=Submission.Channel.KEY, by=person
            )
            submission = rows.get()
        SUBMISSION.apply(
            submission,
            to=to,
            by=person,
            note=note,
            stamp=("decided_at",),
            values={"decided_by": person, "reason": note},
            at=now,
        )
        audit.record(
            actor=by.label if system else by,
            action=f"submission.{to}",
            obj=submission,
            data={
                "number": guarantee.number,
                "version": certificate.version,
                "office": office.pk,
                "note": note[:200],
            },
        )
        if to == SubmissionStatus.RETURNED:
            notifications.submission_returned(submission)
    return submission


def receive(*, certificate, office, by, note=""):
    """受領: a user of `office` (or its system, OfficeSystem) accepts one version (delivered,
    handed over, or opened with the key). Once per version and office; a later version is
    answered on its own."""
    return _answer(
        certificate=certificate, office=office, by=by, to=SubmissionStatus.RECEIVED, note=note
    )


def return_(*, certificate, office, by, reason):
    """返戻: a user of `office` sends one version back with a reason (e.g. 工事番号が契約書と
    異なる). The contractor and surety staff are mailed the reason; the contractor may then
    apply for a change (menu 5), whose new version is delivered again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(MSG_RETURN_REASON, code="reason_required")
    return _answer(
        certificate=certificate,
        office=office,
        by=by,
        to=SubmissionStatus.RETURNED,
        note=reason[:RETURN_REASON_MAX],
    )


def record_first_view(*, guarantee, at=None):
    """The orderer opened the guarantee (with the key, or as an office user): the first time
    is kept (閲覧済 for the contractor). One UPDATE, a no-op once stamped."""
    return Guarantee.objects.filter(pk=guarantee.pk, first_viewed_at=None).update(
        first_viewed_at=at or timezone.now()
    )


def record_office_view(*, guarantee, office, at=None):
    """An office user opened the guarantee: the first view of each version submitted to the
    office is stamped (閲覧済 for the contractor). One UPDATE, a no-op once stamped."""
    at = at or timezone.now()
    record_first_view(guarantee=guarantee, at=at)
    return Submission.objects.filter(guarantee=guarantee, office=office, viewed_at=None).update(
        viewed_at=at
    )


def record_key_opening(*, guarantee, office, by):
    """An office user opened the guarantee with the key: its current version joins the
    office's list (a KEY submission, viewed now) unless that version already reached the
    office, which is then marked viewed. Nothing for another orderer's office."""
    if office.orderer_id != guarantee.orderer_id:
        return None
    current = guarantee.certificates.order_by("-version").first()
    now = timezone.now()
    if not Submission.objects.filter(certificate=current, office=office).exists():
        try:
            with transaction.atomic():
                submission = deliver(
                    certificate=current,
                    office=office,
                    channel=Submission.Channel.KEY,
                    by=by,
                    at=now,
                )
        except (IntegrityError, ValidationError):
            pass  # opened at the same moment by a colleague: one submission is enough
        else:
            Submission.objects.filter(pk=submission.pk).update(viewed_at=now)
            return submission
    record_office_view(guarantee=guarantee, office=office, at=now)
    return None


# --- お知らせ to offices: changes, cancellations, expiry (decision 0018) -------------------


def _offices_holding(guarantee_ids):
    """(office_id, guarantee_id) of every office each guarantee reached, once each."""
    return set(
        Submission.objects.filter(guarantee_id__in=guarantee_ids)
        .values_list("office_id", "guarantee_id")
        .distinct()
    )


def alert_change(*, certificate, cancelled, delivered=()):
    """A guarantee in offices' lists got a new version (or was cancelled): one alert per
    office, a badge for each of its users until they open it. Offices the version was just
    delivered to were mailed 「電子証書が届きました」; the others (on the key path) get
    「保証内容の変更のお知らせ」. Runs in the issuing transaction."""
    guarantee = certificate.guarantee
    kind = OfficeAlert.Kind.CANCELLED if cancelled else OfficeAlert.Kind.NEW_VERSION
    mailed = {s.office_id for s in delivered if s.channel != Submission.Channel.KEY}
    alerts = []
    for office_id, _ in sorted(_offices_holding([guarantee.pk])):
        alert, created = OfficeAlert.objects.get_or_create(
            office_id=office_id,
            guarantee=guarantee,
            kind=kind,
            subject=f"v{certificate.version}",
            defaults={"at": certificate.issued_at},
        )
        if created:
            alerts.append(alert)
            if office_id not in mailed:
                notifications.office_alert(alert, certificate=certificate)
    return alerts


def alert_expiring(*, today=None, days=None):
    """The daily run: every guarantee in an office's list, not cancelled or completed, whose
    保証期限 falls within `days` (ESURE_EXPIRY_ALERT_DAYS) from today gets one alert per
    office, and each office one mail listing its new ones. Idempotent: an alert exists once
    per period end, so a second run (or a retry) mails nothing. Returns the alerts made."""
    today = today or timezone.localdate()
    days = settings.ESURE_EXPIRY_ALERT_DAYS if days is None else days
    ending = selectors.with_current(
        Guarantee.objects.filter(cancelled_at__isnull=True, completed_on__isnull=True)
    ).filter(
        current_ends_on__gte=today,
        current_ends_on__lte=today + datetime.timedelta(days=days),
    )
    ends = dict(ending.values_list("pk", "current_ends_on"))
    made = []
    with transaction.atomic():
        for office_id, guarantee_id in sorted(_offices_holding(list(ends))):
            alert, created = OfficeAlert.objects.get_or_create(
                office_id=office_id,
                guarantee_id=guarantee_id,
                kind=OfficeAlert.Kind.EXPIRING,
                subject=ends[guarantee_id].isoformat(),
            )
            if created:
                made.append(alert)
        by_office = {}
        for alert in made:
            by_office.setdefault(alert.office_id, []).append(alert)
        for alerts in by_office.values():
            notifications.expiry_alerts(alerts, ends=ends)
    return made


def mark_alerts_seen(*, guarantee, office, user):
    """The user opened the guarantee: its alerts at their office lose their badge for them."""
    unseen = OfficeAlert.objects.filter(guarantee=guarantee, office=office).exclude(seen__user=user)
    OfficeAlertSeen.objects.bulk_create(
        [OfficeAlertSeen(alert=alert, user=user) for alert in unseen], ignore_conflicts=True
    )


# --- 完成: the end of a guarantee by the work's completion (decision 0026) -----------------

COMPLETION_NOTE_MAX = 1000


def _check_orderer_side(by, office, guarantee):
    """Who records what the orderer did (完成, a refund received): a user of an office that
    holds the guarantee (some version reached it), or staff on the orderer's written notice
    (office None). Anyone else: PermissionDenied."""
    if office is None:
        if not getattr(by, "is_staff", False):
            raise PermissionDenied
        return
    _check_office_user(by, office, guarantee)
    if not selectors.is_held_by(guarantee, office):
        raise PermissionDenied


def record_completion(*, guarantee, completed_on, by, office=None, note=""):
    """完成: the work was inspected and handed over on `completed_on`; the guarantee is 完了.

    Recorded by a user of `office` (an office of the guarantee's orderer that holds it) or,
    with office None, by surety staff on the orderer's written notice (`note`: its date and
    reference). Refused by certificates.rules.completion_problem (a ValidationError on
    `completed_on`): a cancelled or already completed guarantee, a future day, a day before
    the 契約日 or the 工期's start. In one transaction: the record, an alert to every office
    holding the guarantee (mailed, except the office that recorded it), the contractor's
    mail, the `completed` signal (advances releases the designated account, 指定解除) and
    the audit event.
    """
    note = (note or "").strip()[:COMPLETION_NOTE_MAX]
    now = timezone.now()
    with transaction.atomic():
        guarantee = (
            Guarantee.objects.select_for_update(of=("self",))
            .select_related("work", "company", "orderer")
            .get(pk=guarantee.pk)
        )
        _check_orderer_side(by, office, guarantee)
        # The 工期's start never changes (a change moves its end): the work's row holds it.
        work = guarantee.work
        starts = [d for d in (work.contract_date, work.start_date) if d is not None]
        problem = rules.completion_problem(
            completed_on=completed_on,
            today=timezone.localdate(now),
            earliest=max(starts) if starts else None,
            cancelled=guarantee.cancelled_at is not None,
            already_completed_on=guarantee.completed_on,
        )
        if problem:
            raise ValidationError({"completed_on": problem})
        guarantee.completed_on = completed_on
        guarantee.completed_at = now
        guarantee.completed_by = by
        guarantee.completed_office = office
        guarantee.completion_note = note
        guarantee.save(
            update_fields=[
                "completed_on",
                "completed_at",
                "completed_by",
                "completed_office",
                "completion_note",
            ]
        )
        for office_id, _ in sorted(_offices_holding([guarantee.pk])):
            alert = OfficeAlert.objects.create(
                office_id=office_id,
                guarantee=guarantee,
                kind=OfficeAlert.Kind.COMPLETED,
                subject=completed_on.isoformat(),
                at=now,
            )
            if office is None or office_id != office.pk:
                notifications.office_completion(alert)
        notifications.guarantee_completed(guarantee)
        signals.completed.send(
            sender=Guarantee, guarantee=guarantee, completed_on=completed_on, by=by
        )
        audit.record(
            actor=by,
            action="guarantee.completed",
            obj=guarantee,
            data={
                "number": guarantee.number,
                "kind": guarantee.kind,
                "completed_on": completed_on.isoformat(),
                "office": office.pk if office is not None else None,
                "note": note[:200],
            },
        )
    return guarantee


# --- 前払金の返還 after a 減額 (decision 0026) ------------------------------------------------


def open_refund(*, certificate, reduced_on, by=None):
    """The 減額 version `certificate` of a 前払金保証 was just issued: if the advance received
    now exceeds what the new 請負代金額 lets the contractor keep, a Refund of the excess is due
    within ESURE_REFUND_DUE_DAYS of `reduced_on` (the 変更契約日). Returns it, or None (not a
    前払金保証, or no excess).

    受領前払金 is the registry's figure: the 前払金保証's amount before this version (its
    保証金額 is the advance paid) plus the current amount of the work's 中間前払金保証, if
    any — with which the share kept is ESURE_REFUND_RATE_TENTHS_INTERMEDIATE instead of
    ESURE_REFUND_RATE_TENTHS. Runs in the caller's transaction (the change's conclusion);
    the contractor and the offices holding the guarantee are mailed.
    """
    guarantee = certificate.guarantee
    if guarantee.kind != GuaranteeKind.ADVANCE or certificate.version < 2:
        return None
    previous = guarantee.certificates.get(version=certificate.version - 1)
    intermediate = (
        selectors.with_current(
            Guarantee.objects.filter(
                work_id=guarantee.work_id, kind=GuaranteeKind.INTERMEDIATE, cancelled_at=None
            )
        )
        .values_list("current_amount", flat=True)
        .first()
        or 0
    )
    received = previous.amount + intermediate
    rate = (
        settings.ESURE_REFUND_RATE_TENTHS_INTERMEDIATE
        if intermediate
        else settings.ESURE_REFUND_RATE_TENTHS
    )
    new_price = certificate.content["work"]["price"]
    amount = rules.refund_excess(received=received, new_price=new_price, rate_tenths=rate)
    if amount == 0:
        return None
    with transaction.atomic():
        refund = Refund.objects.create(
            guarantee=guarantee,
            certificate=certificate,
            received=received,
            new_price=new_price,
            rate_tenths=rate,
            amount=amount,
            reduced_on=reduced_on,
            due_on=rules.refund_due_on(reduced_on, settings.ESURE_REFUND_DUE_DAYS),
        )
        holding = sorted({office_id for office_id, _ in _offices_holding([guarantee.pk])})
        notifications.refund_due(refund, offices=holding)
        audit.record(
            actor=by,
            action="refund.due",
            obj=refund,
            data={
                "number": guarantee.number,
                "version": certificate.version,
                "received": received,
                "new_price": new_price,
                "rate_tenths": rate,
                "amount": amount,
                "due_on": refund.due_on.isoformat(),
            },
        )
    return refund


def record_refund_return(*, refund, returned_on, by, office=None, note=""):
    """The orderer received the excess back on `returned_on`: recorded once by a user of an
    office holding the guarantee (or staff, office None), not in the future, not before the
    reduction (certificates.rules.return_problem, a ValidationError on `returned_on`). The
    contractor is mailed; audit `refund.returned`."""
    note = (note or "").strip()[:COMPLETION_NOTE_MAX]
    now = timezone.now()
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        guarantee = refund.guarantee
        _check_orderer_side(by, office, guarantee)
        problem = rules.return_problem(
            returned_on=returned_on,
            today=timezone.localdate(now),
            reduced_on=refund.reduced_on,
            already_returned_on=refund.returned_on,
        )
        if problem:
            raise ValidationError({"returned_on": problem})
        refund.returned_on = returned_on
        refund.recorded_at = now
        refund.recorded_by = by
        refund.recorded_office = office
        refund.note = note
        refund.save(
            update_fields=["returned_on", "recorded_at", "recorded_by", "recorded_office", "note"]
        )
        notifications.refund_returned(refund)
        audit.record(
            actor=by,
            action="refund.returned",
            obj=refund,
            data={
                "number": guarantee.number,
                "amount": refund.amount,
                "returned_on": returned_on.isoformat(),
                "office": office.pk if office is not None else None,
            },
        )
    return refund
