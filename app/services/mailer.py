"""Sending one e-mail over SMTP (stdlib ``smtplib``), or to a folder in development."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

from flask import current_app


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Subject"] = subject
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
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)
