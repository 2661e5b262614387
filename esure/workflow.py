"""Status moves and their history, one shape for every workflow (STYLE.md "Status changes",
decision 0042).

Each workflow keeps its own status table (`ALLOWED`: from each status, the statuses it may
move to; a status without a row is final) and its own history model built on
`StatusHistory`; it declares one `Workflow` that joins the two. `Workflow.move` is the one
writer of a status: it locks the row with select_for_update(), checks the table, stamps the
time, saves, and writes the history row (old, new, by, at, note). What a move means to its
app (the audit event, the mail) stays with the app's service, which calls `move` inside its
transaction.

Not an app: imports no app, so the registry, the faces and `accounts` may all use it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

MSG_TRANSITION = "「{old}」の{what}を「{new}」にすることはできません。"


class TransitionError(ValidationError):
    """A move the status table does not allow (e.g. a second approval)."""


def by_field(*, null=False):
    """`by` for a history whose moves may be made by no person (null: esure or a command)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=null,
        blank=null,
        related_name="+",
        verbose_name="実行者",
    )


class StatusHistory(models.Model):
    """One status move of a subject: from what, to what, who, when, and why. Never changed or
    deleted. The first row of a subject created in its first status has no old status.

    A subclass adds the foreign key to its subject and names the subject's `statuses` (its
    TextChoices), which give the labels; the columns hold the codes. A subclass whose moves
    may be made by no person (esure itself, a daily command) redeclares
    `by = by_field(null=True)`.
    """

    statuses = None

    old_status = models.CharField("変更前", max_length=30, blank=True)
    new_status = models.CharField("変更後", max_length=30)
    by = by_field()
    at = models.DateTimeField("日時", default=timezone.now)
    note = models.TextField("理由・メモ", blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.get_old_status_display()} → {self.get_new_status_display()}"

    def _label(self, value):
        if not value:
            return "—"
        return dict(self.statuses.choices).get(value, value)

    def get_old_status_display(self):
        return self._label(self.old_status)

    def get_new_status_display(self):
        return self._label(self.new_status)


@dataclass(frozen=True)
class Workflow:
    """One status workflow: its table, its history model, and the words of a refusal.

    `message` is formatted with `old` and `new` (the statuses' labels) and `what`; an app
    whose tests import its own message constant passes it here.
    """

    table: dict
    history: type
    what: str = ""
    message: str = MSG_TRANSITION
    code: str = "transition"

    @property
    def subject_field(self):
        """The history's foreign key to the subject (the one relation besides `by`)."""
        [field] = [
            field for field in self.history._meta.fields if field.is_relation and field.name != "by"
        ]
        return field

    def allows(self, old, new):
        return new in self.table.get(old, ())

    def check(self, subject, to):
        """TransitionError unless the table allows `subject` to move to `to` now."""
        if not self.allows(subject.status, to):
            self.refuse(subject, to)

    def refuse(self, subject, to):
        """Raise the workflow's TransitionError for the move of `subject` to `to` (also for
        a service that allows fewer moves than the table, e.g. from one status only)."""
        labels = dict(type(subject).Status.choices)
        raise TransitionError(
            self.message.format(
                old=labels.get(subject.status, subject.status),
                new=labels.get(to, to),
                what=self.what,
            ),
            code=self.code,
        )

    def lock(self, subject, to, *, related=()):
        """Lock the subject's row (select_for_update) and check the move to `to` from the
        status it has now. In a transaction. A service that works before it moves
        (validation, conclusion) calls this first, then `move`."""
        model = self.subject_field.related_model
        rows = model.objects.select_for_update(of=("self",))
        if related:
            rows = rows.select_related(*related)
        locked = rows.get(pk=subject.pk)
        self.check(locked, to)
        return locked

    def apply(self, locked, *, to, by, note="", stamp=(), values=None, at=None):
        """Move a row the caller has locked in this transaction: check the table, set the
        status with the time fields named in `stamp` and the `values` that go with the move
        (one UPDATE), write the history row. Returns the history row."""
        self.check(locked, to)
        at = at or timezone.now()
        values = values or {}
        old = locked.status
        locked.status = to
        for name in stamp:
            setattr(locked, name, at)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.save(update_fields=["status", *stamp, *values])
        return self.history.objects.create(
            **{self.subject_field.name: locked},
            old_status=old,
            new_status=to,
            by=by,
            at=at,
            note=note,
        )

    def move(self, subject, *, to, by, note="", stamp=(), values=None, related=()):
        """The one writer of a status: lock, check, stamp, save, history row. In a
        transaction. Returns (the locked subject as saved, the history row)."""
        locked = self.lock(subject, to, related=related)
        change = self.apply(locked, to=to, by=by, note=note, stamp=stamp, values=values)
        return locked, change
