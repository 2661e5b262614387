"""D-Sure's one access helper and its writes: lookup, viewing, clearing (受領 and 返戻 are the
registry's services: certificates.services.receive / return_).

find_guarantee(number, key) gives one answer for an unknown number, a wrong key and an
old (re-issued) key, does the same work on each of those paths, and records the attempt in
the access log (dsure.throttle: one row, or one more count in the address's row past its hard
ceiling). The key itself is never stored, logged or put in a URL.
"""

import enum
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import OfficeMembership
from audit import services as audit
from certificates import keys, numbering
from certificates import services as registry
from dsure import throttle
from dsure.models import AccessLog, LockClear

MSG_NUMBER_FORMAT = (
    "保証契約番号の入力に誤りがあります。「06-1-0001234-9」のような11桁の番号を、"
    "認証キー等のお知らせのとおりに入力してください。"
)
MSG_KEY_FORMAT = (
    "認証キーの入力に誤りがあります。「XXXX-XXXX-XXXX-XXXX」の16文字（英数字）を入力してください。"
)
MSG_NO_MATCH = (
    "保証契約番号または認証キーが正しくありません。認証キー等のお知らせをご確認のうえ、"
    "もう一度入力してください。"
)
MSG_WAIT = (
    "入力の誤りが続いたため、しばらく時間をおいてからお試しください。"
    "お急ぎの場合は、受注者または保証会社にお問い合わせください。"
)
MSG_LOCKED = (
    "入力の誤りが続いたため、この保証契約番号での閲覧を停止しています。"
    "受注者または保証会社にお問い合わせください。"
)
# Equal work on every failure path: an unknown number is checked against this key.
_DUMMY_NUMBER = "00000000000"
_DUMMY_SALT = "0" * 32


class Result(enum.Enum):
    OK = "ok"
    NUMBER_FORMAT = "number_format"  # before any lookup (numbering.parse_number); not counted
    KEY_FORMAT = "key_format"  # before any lookup (keys.parse_key); not counted
    NO_MATCH = "no_match"  # unknown number, wrong key, old key: one answer
    WAIT = "wait"
    LOCKED = "locked"


MESSAGES = {
    Result.NUMBER_FORMAT: MSG_NUMBER_FORMAT,
    Result.KEY_FORMAT: MSG_KEY_FORMAT,
    Result.NO_MATCH: MSG_NO_MATCH,
    Result.WAIT: MSG_WAIT,
    Result.LOCKED: MSG_LOCKED,
}


@dataclass(frozen=True)
class Lookup:
    result: Result
    number: str = ""
    guarantee_id: int | None = None  # set when the key was right
    key_version: int = 0  # the version whose key was right: the grant dies with it

    @property
    def message(self):
        return MESSAGES.get(self.result, "")


def find_guarantee(*, typed_number, typed_key, ip, office_user=None, now=None):
    """The one access helper of D-Sure: the guarantee for a number + key, or why not.

    `ip` is the client's counting key (esure.clientip.client_key). Reading the throttle,
    checking the key and logging the attempt run under a lock on the number, so parallel
    attempts are judged one after the other (dsure.throttle).
    """
    now = now or timezone.now()
    parsed = numbering.parse_number(typed_number or "")
    if parsed is None:
        return Lookup(Result.NUMBER_FORMAT)
    key = keys.parse_key(typed_key or "")
    if key is None:
        return Lookup(Result.KEY_FORMAT)
    number = parsed.number
    user = office_user if office_user is not None and office_user.is_authenticated else None
    with throttle.Serialised(number) as tx:
        state = tx.state(ip=ip, user=user, now=now)
        exempt = (
            user is not None
            and state.orderer_id is not None
            and _orderer_of(user) == state.orderer_id
        )
        refused = throttle.refusal(state, exempt=exempt, now=now)
        if refused == throttle.Refusal.LOCKED:
            tx.write(*_log(number, ip, AccessLog.Outcome.LOCKED, user, now))
            return Lookup(Result.LOCKED, number)
        if refused == throttle.Refusal.WAIT:
            tx.write(*_log(number, ip, AccessLog.Outcome.THROTTLED, user, now))
            return Lookup(Result.WAIT, number)
        if refused == throttle.Refusal.OVER_CEILING:
            if tx.direct:  # one statement, sent with the COMMIT
                if not throttle.lock_due(state):  # no fsync for a flood's count (decision 0048)
                    tx.write(throttle.ASYNC_COMMIT_SQL, {})
                tx.write(*throttle.count_refused_query(number=number, ip=ip, state=state, now=now))
            else:
                throttle.count_refused(number=number, ip=ip, state=state, now=now)
            _lock_if_due(tx, number, state, now)
            return Lookup(Result.WAIT, number)

        if state.guarantee_id is not None and state.key_version > 0:
            right = keys.verify_key(number, state.key_version, key, salt=state.key_salt)
        else:  # unknown, or 書面交付 (version 0, no key): the same work as a real check
            keys.verify_key(_DUMMY_NUMBER, 1, key, salt=_DUMMY_SALT)
            right = False
        if right:
            tx.write(*_log(number, ip, AccessLog.Outcome.SUCCESS, user, now, state.guarantee_id))
            return Lookup(Result.OK, number, state.guarantee_id, state.key_version)
        tx.write(*_log(number, ip, AccessLog.Outcome.FAILURE, user, now))
        _lock_if_due(tx, number, state, now)
        tx.after(*throttle.alert_counts_query(ip, now))  # read after the COMMIT, same trip
    throttle.raise_alerts(ip, now, counts=tx.after_row)
    if not exempt and throttle.over_soft_limit(state):
        return Lookup(Result.WAIT, number)
    return Lookup(Result.NO_MATCH, number)


def _lock_if_due(tx, number, state, now):
    """Lock the number when this counted failure is its LOCK_AT-th (the queued write first)."""
    if throttle.lock_due(state):
        tx.flush()
        throttle.lock_if_due(number=number, state=state, now=now)


def _orderer_of(user):
    """The orderer whose office the user belongs to (accounts.OfficeMembership), or None."""
    memberships = OfficeMembership.objects.filter(user=user)
    return memberships.values_list("office__orderer_id", flat=True).first()


def _log(number, ip, outcome, office_user, now, guarantee_id=None):
    """The log row's INSERT (sql, params), for `throttle.Serialised.write`."""
    user = office_user if office_user and office_user.is_authenticated else None
    return throttle.log_query(
        number=number, ip=ip, outcome=outcome, now=now, guarantee_id=guarantee_id, user=user
    )


def _log_now(number, ip, outcome, office_user, now, guarantee_id=None):
    AccessLog.objects.create(
        at=now,
        ip=ip,
        number=number,
        outcome=outcome,
        guarantee_id=guarantee_id,
        office_user=office_user if office_user and office_user.is_authenticated else None,
    )


def record_office_view(*, guarantee, user, ip):
    """An office user opened a guarantee submitted to their office: logged as its own outcome
    (it proves no key, so it resets no throttle) and stamped on the office's submissions
    (閲覧済 for the contractor)."""
    now = timezone.now()
    _log_now(guarantee.number, ip, AccessLog.Outcome.HANDOVER_VIEW, user, now, guarantee.pk)
    office = user.office_membership.office
    registry.record_office_view(guarantee=guarantee, office=office, at=now)


def clear_lock(*, number, by, note=""):
    """Staff clear the throttle of a number (after checking with the orderer)."""
    with transaction.atomic():
        cleared = LockClear.objects.create(number=number, by=by, note=note)
        audit.record(
            actor=by,
            action="dsure.lock_cleared",
            object_type="dsure.number",
            object_id=number,
            data={"number": number, "note": note[:200]},
        )
    return cleared
