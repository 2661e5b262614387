"""One way to send mail: rendered from templates/emails/<name>_{subject,body}.txt and queued
as a task, in the caller's transaction. The database task backend writes the queued row in
that transaction; its worker sends after commit, retries with back-off, and leaves a failed
row visible to staff (admin: Tasks) when the last attempt fails. A mail never carries a
認証キー or a login-free link: only what is rendered here travels in the task payload.
"""

import datetime
import logging
import smtplib

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


def render_mail(name, context):
    context = {"site_url": settings.ESURE_SITE_URL, **context}
    subject = render_to_string(f"{name}_subject.txt", context).strip()
    body = render_to_string(f"{name}_body.txt", context)
    return subject, body


def send_templated_mail(name, context, recipients):
    """Render now, queue the delivery (sent after the surrounding transaction commits)."""
    subject, body = render_mail(name, context)
    deliver_mail.enqueue(subject=subject, body=body, recipients=list(recipients))


@task()
def deliver_mail(*, subject, body, recipients, attempt=1):
    """Send one mail; on a transient failure queue the next attempt, after the last raise."""
    try:
        EmailMessage(subject=subject, body=body, to=recipients).send()
    except (smtplib.SMTPException, OSError) as error:
        if attempt >= MAX_ATTEMPTS:
            logger.error("mail failed for good after %s attempts: %s", attempt, subject)
            raise
        delay = datetime.timedelta(minutes=BACKOFF_MINUTES ** (attempt - 1))
        logger.warning("mail attempt %s failed (%s); retrying in %s", attempt, error, delay)
        deliver_mail.using(run_after=timezone.now() + delay).enqueue(
            subject=subject, body=body, recipients=recipients, attempt=attempt + 1
        )
        return "retry scheduled"
    return "sent"


class ReadableConsoleBackend(ConsoleBackend):
    """The demo's console mail, decoded: Japanese bodies are otherwise printed as base64,
    and the person running `make run` needs to read the verification link."""

    def write_message(self, message):
        self.stream.write(f"--- mail to {', '.join(message.recipients())} ---\n")
        self.stream.write(f"Subject: {message.subject}\n\n{message.body}\n")
        self.stream.write("-" * 72 + "\n")
