"""One way to send mail: a subject and a body rendered from templates/emails/<name>_*.txt.

Everything that mails a user goes through `send_templated_mail`, so that durable delivery
(Django's Tasks framework, with retries) replaces the direct send in one place.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.template.loader import render_to_string


def render_mail(name, context):
    context = {"site_url": settings.ESURE_SITE_URL, **context}
    subject = render_to_string(f"{name}_subject.txt", context).strip()
    body = render_to_string(f"{name}_body.txt", context)
    return subject, body


def send_templated_mail(name, context, recipients):
    subject, body = render_mail(name, context)
    EmailMessage(subject=subject, body=body, to=list(recipients)).send()


class ReadableConsoleBackend(ConsoleBackend):
    """The demo's console mail, decoded: Japanese bodies are otherwise printed as base64,
    and the person running `make run` needs to read the verification link."""

    def write_message(self, message):
        self.stream.write(f"--- mail to {', '.join(message.recipients())} ---\n")
        self.stream.write(f"Subject: {message.subject}\n\n{message.body}\n")
        self.stream.write("-" * 72 + "\n")
