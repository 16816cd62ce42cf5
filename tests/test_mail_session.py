"""One SMTP session per worker thread, kept across messages, against a real SMTP server.

A server that dropped the session meanwhile (its idle timeout) costs a reconnect, never a
message; a message refused once its data went out is not sent again.
"""

from __future__ import annotations

import smtplib
import time
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from app.services import mailer
from tests.conftest import make_app
from tests.mailserver import _free_port


class _Server:
    """Keeps each message with the client address (host, port) of the session it came on;
    refuses the ``refuse``-th message at the end of its data, after the client sent it."""

    def __init__(self, refuse: int = 0) -> None:
        self.received: list[tuple[tuple[str, int], Message]] = []
        self.refuse = refuse
        self.data_seen = 0

    async def handle_DATA(self, server, session, envelope):
        self.data_seen += 1
        if self.data_seen == self.refuse:
            return "451 Try again later"
        self.received.append((session.peer, message_from_bytes(envelope.original_content)))
        return "250 Message accepted for delivery"

    @property
    def sessions(self) -> int:
        return len({peer for peer, _ in self.received})

    def recipients(self) -> list[str]:
        return [message["To"] for _, message in self.received]


@pytest.fixture
def smtp_at():
    """``smtp_at(timeout=..., refuse=...)``: a started server and its port."""
    controllers = []

    def _start(timeout: float = 300, refuse: int = 0) -> tuple[_Server, int]:
        server = _Server(refuse)
        controller = Controller(server, hostname="127.0.0.1", port=_free_port(), timeout=timeout)
        controller.start()
        controllers.append(controller)
        return server, controller.port

    yield _start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def send_to(migrated):
    """``send_to(port)(to)``: ``mailer.send`` as a job calls it, to the server on ``port``."""

    def _sender(port: int):
        app = make_app(migrated, MAIL_SUPPRESS_SEND=False, MAIL_PORT=port)

        def _send(to: str) -> None:
            with app.app_context():
                mailer.send(mailer.build_message(to, "Parley: a step", "Sign in to see it.\n"))

        return _send

    yield _sender
    mailer.close_session()


def test_messages_one_after_another_share_one_session(smtp_at, send_to):
    server, port = smtp_at()
    send = send_to(port)
    for n in range(5):
        send(f"person{n}@alpha.example.org")
    assert server.recipients() == [f"person{n}@alpha.example.org" for n in range(5)]
    assert server.sessions == 1


def test_a_session_the_server_dropped_is_replaced_and_the_message_sent_once(smtp_at, send_to):
    """The server closes an idle session (its timeout, with a 421); the next message finds
    out at its envelope, before any data, and goes out once on a new session."""
    server, port = smtp_at(timeout=1.0)
    send = send_to(port)
    send("first@alpha.example.org")
    time.sleep(3.0)  # the server gives up on the idle session
    send("second@alpha.example.org")
    send("third@alpha.example.org")
    assert server.recipients() == [
        "first@alpha.example.org",
        "second@alpha.example.org",
        "third@alpha.example.org",
    ]
    assert server.sessions == 2


def test_a_message_refused_after_its_data_is_not_sent_again(smtp_at, send_to):
    """Once the data went out the server may have taken it: the error goes to the job (whose
    retry checks what was recorded), and the session is not trusted for the next message."""
    server, port = smtp_at(refuse=2)
    send = send_to(port)
    send("first@alpha.example.org")
    with pytest.raises(smtplib.SMTPDataError):
        send("second@alpha.example.org")
    assert server.data_seen == 2  # one try, not two
    send("third@alpha.example.org")
    assert server.recipients() == ["first@alpha.example.org", "third@alpha.example.org"]
    assert server.sessions == 2


def test_a_session_is_kept_only_for_its_own_server(smtp_at, send_to):
    """Two apps with two servers in one process (a test run, a reconfigured worker): each
    message goes to the server its app names."""
    first, first_port = smtp_at()
    second, second_port = smtp_at()
    send_to(first_port)("a@alpha.example.org")
    send_to(second_port)("b@alpha.example.org")
    send_to(first_port)("c@alpha.example.org")
    assert first.recipients() == ["a@alpha.example.org", "c@alpha.example.org"]
    assert second.recipients() == ["b@alpha.example.org"]
