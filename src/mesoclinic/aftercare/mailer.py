"""Hand one outbox message to an SMTP server with smtplib."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from mesoclinic.aftercare.outbox import Claimed
from mesoclinic.config import Settings


def build_email(settings: Settings, message: Claimed) -> EmailMessage:
    """The RFC 5322 message; the Message-ID is the outbox row's, stable across retries."""
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message.body)
    return email


def send(settings: Settings, message: Claimed) -> None:
    """Deliver to the configured SMTP server; raises on any refusal or connection failure."""
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(build_email(settings, message))
