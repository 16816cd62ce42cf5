"""Sending e-mail over SMTP (stdlib ``smtplib``), or to a folder in development.

A worker sends one notification after another, so each thread keeps its SMTP session open
between messages: opening one (TCP, greeting, EHLO, TLS, login) cost more than the message
itself (``bench/mail.py``). A session the server dropped meanwhile is noticed before the
message is handed over, and the message goes out on a new one; once the message's data has
started, a failure is never retried here, because the server may have accepted it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import smtplib
import threading
import time
from collections.abc import Mapping
from email.headerregistry import BaseHeader
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from flask import current_app

#: An SMTP session idle this long is closed rather than reused: servers drop idle clients
#: (RFC 5321 asks them to wait at least five minutes), and a fresh session costs little.
IDLE_SECONDS = 60.0


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
    message["From"] = _header("From", current_app.config["MAIL_DEFAULT_SENDER"])
    message["To"] = _header("To", to)
    message["Subject"] = _header("Subject", subject)
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(body)
    return message


@lru_cache(maxsize=1024)
def _header(name: str, value: str) -> BaseHeader:
    """A header as the message's policy parses it, parsed once per value.

    The sender, a district's subjects and a caseload's addresses repeat from one notice to
    the next, and parsing an address header cost more than the rest of the message; a
    parsed header is an immutable string, so the message takes it as it is.
    """
    return default_policy.header_factory(name, value)


def send(message: EmailMessage) -> None:
    """Deliver ``message``; with ``MAIL_SUPPRESS_SEND`` it is written to ``MAIL_OUTBOX_DIR``.

    Returns once the server has accepted it. Raises if it did not, or if it cannot be known.
    """
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
    _sessions.send(_Server.from_config(config), message)


def close_session() -> None:
    """Say goodbye to this thread's SMTP server, if a session is open (a worker stopping)."""
    _sessions.close()


class _Server(NamedTuple):
    """Where and as whom to send: a session is reused only for the same server and login."""

    host: str
    port: int
    use_tls: bool
    username: str | None
    password: str

    @classmethod
    def from_config(cls, config: Mapping) -> _Server:
        return cls(
            config["MAIL_SERVER"],
            int(config["MAIL_PORT"]),
            bool(config.get("MAIL_USE_TLS")),
            config.get("MAIL_USERNAME") or None,
            config.get("MAIL_PASSWORD") or "",
        )

    def connect(self) -> _Session:
        smtp = _Session(self.host, self.port, timeout=10)
        try:
            if self.use_tls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


class _Session(smtplib.SMTP):
    """An SMTP session that knows whether the current message's data has started to go out."""

    data_started = False

    def data(self, msg):
        self.data_started = True
        return super().data(msg)


class _Sessions(threading.local):
    """This thread's open SMTP session, the server it is with, and when it was last used."""

    def __init__(self) -> None:
        self.smtp: _Session | None = None
        self.server: _Server | None = None
        self.pid = 0
        self.used_at = 0.0

    def send(self, server: _Server, message: EmailMessage) -> None:
        smtp, reused = self._session(server)
        try:
            self._hand_over(smtp, message)
        except (smtplib.SMTPException, OSError):
            self.forget()
            # A session the server dropped fails at the envelope, before any data: nothing
            # was accepted, so the message goes out once on a new session.
            if not reused or smtp.data_started:
                raise
            smtp, _ = self._session(server)
            try:
                self._hand_over(smtp, message)
            except (smtplib.SMTPException, OSError):
                self.forget()
                raise
        self.used_at = time.monotonic()

    @staticmethod
    def _hand_over(smtp: _Session, message: EmailMessage) -> None:
        smtp.data_started = False
        smtp.send_message(message)

    def _session(self, server: _Server) -> tuple[_Session, bool]:
        """The open session when it is with ``server``, still ours and not idle too long."""
        if self.smtp is not None and self.pid != os.getpid():
            # Opened before a fork: the parent's socket, not ours to use or to close.
            self.smtp = None
        if self.smtp is not None and (
            self.server != server or time.monotonic() - self.used_at > IDLE_SECONDS
        ):
            self.close()
        if self.smtp is not None:
            return self.smtp, True
        self.smtp, self.server, self.pid = server.connect(), server, os.getpid()
        return self.smtp, False

    def close(self) -> None:
        if self.smtp is not None:
            # Every message on it was accepted already; a failed goodbye changes nothing.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
        self.forget()

    def forget(self) -> None:
        """Drop the session without a goodbye (after an error its state is unknown)."""
        if self.smtp is not None:
            self.smtp.close()
        self.smtp = self.server = None


_sessions = _Sessions()
