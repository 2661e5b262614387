"""One way to send mail: rendered from templates/emails/<name>_{subject,body}.txt and queued
as a task, in the caller's transaction. The database task backend writes the queued row in
that transaction; its worker sends after commit, retries with back-off, and leaves a failed
row visible to staff (admin: Tasks) when the last attempt fails. A mail never carries a
認証キー or a login-free link: only what is rendered here travels in the task payload.

Delivery is at least once, never knowingly twice: a retry is queued only after a failure
that SMTP reported, and every attempt of one mail carries the Message-ID given at enqueue
time. The one case SMTP cannot tell apart (the server stored the mail but its "250 OK" was
lost on the way back, RFC 1047) is retried rather than risk losing the mail, and its copies
share that Message-ID, by which mail systems can recognise them as one message. Logs name the
Message-ID, attempt and error class, never the body or the recipients.
"""

import datetime
import logging
import smtplib
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# Back-off before attempt n+1: 1, 4, 16, 64 minutes.
BACKOFF_MINUTES = 4


def one_line(text):
    """A header value on one line: every run of whitespace and control characters (a CR/LF
    typed into a work or company name) becomes one space. A line break left in a subject
    would make the message impossible to build (BadHeaderError) — or a header injection."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def render_mail(name, context):
    context = {"site_url": settings.ESURE_SITE_URL, **context}
    subject = one_line(render_to_string(f"{name}_subject.txt", context))
    body = render_to_string(f"{name}_body.txt", context)
    return subject, body


def send_templated_mail(name, context, recipients):
    """Render now, queue the delivery (sent after the surrounding transaction commits)."""
    subject, body = render_mail(name, context)
    deliver_mail.enqueue(
        subject=subject, body=body, recipients=list(recipients), message_id=new_message_id()
    )


def new_message_id():
    """A Message-ID in the sender's domain (make_msgid would otherwise ask DNS for this
    host's name, which a container may not have)."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return make_msgid(domain=domain or "esure.invalid")


def _reason(error):
    """The error class and SMTP code: a server's text may echo the recipients."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code = ",".join(sorted({str(c) for c, _ in error.recipients.values()}))
    return f"{type(error).__name__} {code}" if code else type(error).__name__


@task()
def deliver_mail(*, subject, body, recipients, attempt=1, message_id=None):
    """Send one mail; on a transient failure queue the next attempt, after the last raise."""
    # A row queued before mails had a Message-ID gets its own on its first run.
    message_id = message_id or new_message_id()
    message = EmailMessage(
        subject=subject, body=body, to=recipients, headers={"Message-ID": message_id}
    )
    try:
        message.message()  # build it first: a header that cannot be sent fails here
    except ValueError as error:  # BadHeaderError and bad addresses: no retry can help
        logger.error("mail %s cannot be built (%s): task failed", message_id, _reason(error))
        raise
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        if attempt >= MAX_ATTEMPTS:
            logger.error(
                "mail %s failed for good after %s attempts (%s): %s",
                message_id,
                attempt,
                _reason(error),
                subject,
            )
            raise
        delay = datetime.timedelta(minutes=BACKOFF_MINUTES ** (attempt - 1))
        logger.warning(
            "mail %s attempt %s failed (%s); retrying in %s",
            message_id,
            attempt,
            _reason(error),
            delay,
        )
        deliver_mail.using(run_after=timezone.now() + delay).enqueue(
            subject=subject,
            body=body,
            recipients=recipients,
            attempt=attempt + 1,
            message_id=message_id,
        )
        return "retry scheduled"
    logger.info("mail %s sent (attempt %s)", message_id, attempt)
    return "sent"


class ReadableConsoleBackend(ConsoleBackend):
    """The demo's console mail, decoded: Japanese bodies are otherwise printed as base64,
    and the person running `make run` needs to read the verification link."""

    def write_message(self, message):
        self.stream.write(f"--- mail to {', '.join(message.recipients())} ---\n")
        self.stream.write(f"Subject: {message.subject}\n\n{message.body}\n")
        self.stream.write("-" * 72 + "\n")
