"""Sending one e-mail over SMTP (stdlib ``smtplib``), or to a folder in development."""

from __future__ import annotations

import contextlib
import hashlib
import smtplib
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from flask import current_app


def message_id_for(outbox_id: str, recipient: str) -> str:
    """The ``Message-ID`` of the mail an outbox message sends to ``recipient``.

    The same on every attempt, so a message sent twice (a crash between the server's
    acceptance and the record of it) is recognisable as one: mail clients and servers
    that de-duplicate by Message-ID show it once, and anyone can tell it is a repeat.
    The address is hashed, not spelled out, because a Message-ID's left side may not
    hold every character an address may, and need not repeat it.
    """
    digest = hashlib.sha256(recipient.encode()).hexdigest()[:16]
    domain = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1].rpartition("@")[2]
    # The outbox id without its dashes keeps the header on one line (78 characters).
    return f"<{outbox_id.replace('-', '')}.{digest}@{domain or 'parley.invalid'}>"


def build_message(
    to: str, subject: str, body: str, *, message_id: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message


def send(message: EmailMessage) -> None:
    """Deliver ``message``; with ``MAIL_SUPPRESS_SEND`` it is written to ``MAIL_OUTBOX_DIR``."""
    config = current_app.config
    if config.get("MAIL_SUPPRESS_SEND"):
        folder = config.get("MAIL_OUTBOX_DIR")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            name = f"{message['To']}-{abs(hash(message.as_string())) % 10**8}.eml"
            (Path(folder) / name).write_text(message.as_string())
        current_app.logger.info(
            "mail to %s not sent (suppressed): %s", message["To"], message["Subject"]
        )
        return
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10)
    try:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
    finally:
        # Once the server has accepted the message it is sent: a failure to say goodbye
        # must not make the caller think otherwise and send it again.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        smtp.close()
