"""Addresses fetched on a district's word: public https only, and nothing of the answer shown.

A program admin chooses the single sign-on issuer, so the issuer (and every address its
discovery document names) is an address the server would connect to on a tenant's word.
These tests turn ``OUTBOUND_ALLOW_PRIVATE`` off (the testing settings allow loopback,
where the test providers run) and prove with a listening socket that nothing connects.
"""

from __future__ import annotations

import html
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.integrations.requests_client import OAuth2Session
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.sso import SsoSettings
from app.security import outbound
from app.services import sso
from app.services.errors import ServiceError
from app.tenants.context import tenant_scope
from tests.factories import csrf_token, login

CANARY = "PARLEY-CANARY-7f3a"


@pytest.fixture
def private_refused(app, monkeypatch) -> None:
    """Production's rule: only public addresses (the test app allows loopback)."""
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE", False)


class Listener:
    """A plain TCP port on loopback that counts who connected (and answers nothing)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def listener() -> Iterator[Listener]:
    port = Listener()
    yield port
    port.sock.close()


@contextmanager
def answering(raw: bytes) -> Iterator[int]:
    """A loopback port that reads a request and answers ``raw``, whatever was asked."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(raw)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        server.close()


def _http(status: str, body: bytes, content_type: str = "application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class FakeProvider:
    """A loopback provider whose every answer a test chooses (discovery is filled in)."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, body = provider.routes.get(urlsplit(self.path).path, ("404 Nope", b"{}"))
                self.wfile.write(_http(status, body))

            do_GET = do_POST = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.discovery(token_endpoint=f"{self.issuer}/token", jwks_uri=f"{self.issuer}/jwks")

    def discovery(self, **fields) -> None:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "id_token_signing_alg_values_supported": ["RS256"],
            **fields,
        }
        self.routes["/.well-known/openid-configuration"] = ("200 OK", json.dumps(document).encode())


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    provider = FakeProvider()
    thread = threading.Thread(target=provider.server.serve_forever, daemon=True)
    thread.start()
    yield provider
    provider.server.shutdown()
    provider.server.server_close()


def _save(app, tenant, issuer: str) -> None:
    with app.app_context():
        sso.save_settings(
            tenant.id,
            {
                "enabled": True,
                "issuer": issuer,
                "client_id": "parley-alpha",
                "client_secret": "alpha-client-secret",
                "passwords_allowed": True,
            },
        )
        uow.commit()


def _page(response) -> str:
    return html.unescape(response.text)


# --- the rule -------------------------------------------------------------------------------

NOT_PUBLIC = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.251",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.10",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::7f00:1",
    "2002:7f00:1::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_private_loopback_and_special_addresses_are_not_public(address):
    assert not outbound.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_internet_addresses_are_public(address):
    assert outbound.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:5432",
        "https://10.0.0.1",
        "https://[::1]",
        "https://169.254.169.254/latest/meta-data/",
        "https://localhost",
        "https://[::ffff:127.0.0.1]",
        "http://example.com",
        "http://8.8.8.8",
        "ftp://8.8.8.8",
        "https://user@8.8.8.8",
        "https://8.8.8.8:99999",
        "https://8.8.8.8:0",
        "https://[::1",
        "https://0x7f.1",
        "https://2130706433",
    ],
)
def test_check_url_refuses_what_is_not_public_https(app, private_refused, url):
    with app.app_context(), pytest.raises(outbound.OutboundRefused):
        outbound.check_url(url)


def test_check_url_accepts_a_public_https_address(app, private_refused):
    with app.app_context():
        outbound.check_url("https://8.8.8.8/.well-known/openid-configuration")


def test_where_private_addresses_are_allowed_http_still_never_reaches_a_public_one(app):
    with app.app_context():
        outbound.check_url("http://127.0.0.1:8080")
        outbound.check_url("https://10.0.0.1")
        with pytest.raises(outbound.OutboundRefused):
            outbound.check_url("http://8.8.8.8")


def test_outside_an_application_nothing_private_is_allowed():
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url("https://127.0.0.1")


def test_a_name_that_resolves_to_loopback_on_the_second_lookup_is_never_connected(
    app, private_refused, listener, monkeypatch
):
    """DNS rebinding: public when checked, loopback when connecting; the connection checks too."""
    real = socket.getaddrinfo
    answers = iter(["93.184.215.14"])

    def rebinding(host, port, *args, **kwargs):
        if host != "idp.rebinding.test":
            return real(host, port, *args, **kwargs)
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with app.app_context():
        outbound.check_url(f"https://idp.rebinding.test:{listener.port}/")
        with pytest.raises(outbound.OutboundRefused):
            outbound.get_json(f"https://idp.rebinding.test:{listener.port}/")
    assert listener.connections() == 0


# --- saving the issuer ----------------------------------------------------------------------

REFUSED_ISSUERS = [
    "https://127.0.0.1:{port}",
    "https://localhost:{port}",
    "https://10.0.0.1",
    "https://[::1]:{port}",
    "https://169.254.169.254",
    "http://example.com",
    "http://127.0.0.1:{port}",
]


@pytest.mark.parametrize("issuer", REFUSED_ISSUERS)
def test_an_issuer_that_is_not_public_https_is_refused_with_a_fixed_sentence(
    app, make_tenant, private_refused, listener, issuer
):
    tenant = make_tenant("alpha")
    with app.app_context(), pytest.raises(ServiceError) as refused:
        sso.save_settings(
            tenant.id,
            {
                "enabled": True,
                "issuer": issuer.format(port=listener.port),
                "client_id": "parley-alpha",
                "client_secret": "s",
                "passwords_allowed": True,
            },
        )
    assert refused.value.errors["issuer"] == [sso.NOT_PUBLIC]
    assert listener.connections() == 0
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.execute(select(SsoSettings)).first() is None


def test_the_admin_page_refuses_a_loopback_issuer_without_connecting(
    app, client, make_tenant, make_user, private_refused, listener
):
    tenant = make_tenant("alpha")
    login(client, tenant, make_user(tenant, "program_admin"))
    page = client.get("/t/alpha/admin/sso")
    saved = client.post(
        "/t/alpha/admin/sso",
        data={
            "csrf_token": csrf_token(page.text),
            "enabled": "y",
            "issuer": f"https://127.0.0.1:{listener.port}",
            "client_id": "parley-alpha",
            "client_secret": "s3cret",
            "passwords_allowed": "y",
            "new_users": "refuse",
        },
    )
    assert listener.connections() == 0
    assert saved.status_code in (400, 422)  # refused, not saved (the form's status for errors)
    assert sso.NOT_PUBLIC in _page(saved)


# --- signing in -----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_an_issuer_saved_before_the_rule_is_refused_at_sign_in_without_connecting(
    app, client, make_tenant, listener, monkeypatch, host
):
    tenant = make_tenant("alpha")
    _save(app, tenant, f"https://{host}:{listener.port}")  # allowed then, as in development
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE", False)
    response = client.get("/t/alpha/sso/start")
    assert listener.connections() == 0
    assert response.status_code == 502
    assert sso.NOT_PUBLIC in _page(response)


def test_a_discovery_document_naming_private_addresses_is_refused_at_sign_in(
    app, client, make_tenant, oidc_provider, listener, monkeypatch
):
    """The token and key addresses are checked like the issuer before anything is fetched.

    A public provider cannot run in a test, so its discovery answer is handed over directly;
    the addresses in it are checked for real, and the listener shows nothing connected.
    """
    tenant = make_tenant("alpha")
    _save(app, tenant, oidc_provider.issuer)
    monkeypatch.setitem(app.config, "OUTBOUND_ALLOW_PRIVATE", False)
    private = f"https://127.0.0.1:{listener.port}"
    documents = [
        {"token_endpoint": f"{private}/token", "jwks_uri": "https://8.8.8.8/jwks"},
        {"token_endpoint": "https://8.8.8.8/token", "jwks_uri": f"{private}/jwks"},
        {"token_endpoint": "https://8.8.8.8/token", "jwks_uri": "https://169.254.169.254/jwks"},
    ]
    fetched = outbound.get_json
    for endpoints in documents:
        document = {
            "issuer": oidc_provider.issuer,
            "authorization_endpoint": "https://8.8.8.8/authorize",
            **endpoints,
        }

        def discovery(url, *, timeout=10, document=document):
            if url.endswith("/.well-known/openid-configuration"):
                return document
            return fetched(url, timeout=timeout)

        monkeypatch.setattr(outbound, "get_json", discovery)
        response = client.get("/t/alpha/sso/start")
        assert response.status_code == 502, endpoints
        assert sso.ENDPOINT_NOT_PUBLIC in _page(response)
    assert listener.connections() == 0


def test_the_fetching_session_itself_refuses_a_private_address(app, private_refused, listener):
    """Without the check before the fetch (Authlib's token request), the connection refuses."""
    with app.app_context(), pytest.raises(outbound.OutboundRefused):
        outbound.get_json(f"https://127.0.0.1:{listener.port}/jwks")
    with app.app_context(), pytest.raises(outbound.OutboundRefused):
        outbound.session().get(f"https://127.0.0.1:{listener.port}/token", timeout=2)
    token_exchange = outbound.session(OAuth2Session("parley-alpha", "secret"))
    with app.app_context(), pytest.raises(outbound.OutboundRefused):
        token_exchange.fetch_token(f"https://127.0.0.1:{listener.port}/token", code="c")
    assert listener.connections() == 0


GARBAGE = [
    pytest.param(f"{CANARY} this is not HTTP\r\n\r\n".encode(), id="not-http"),
    pytest.param(_http(f"503 {CANARY}", CANARY.encode(), "text/plain"), id="error-status"),
    pytest.param(_http("200 OK", f"<html>{CANARY}</html>".encode(), "text/html"), id="not-json"),
    pytest.param(_http("200 OK", json.dumps({"issuer": CANARY}).encode()), id="another-issuer"),
    pytest.param(_http("200 OK", json.dumps([CANARY]).encode()), id="json-not-a-document"),
]


@pytest.mark.parametrize("answer", GARBAGE)
def test_what_the_issuer_answered_is_never_shown(app, client, make_tenant, answer):
    tenant = make_tenant("alpha")
    with answering(answer) as port:
        _save(app, tenant, f"http://127.0.0.1:{port}")
        response = client.get("/t/alpha/sso/start")
    assert response.status_code == 502
    assert CANARY not in response.text
    assert f"127.0.0.1:{port}" not in response.text


def _start(client, provider) -> str:
    start = client.get("/t/alpha/sso/start")
    assert start.status_code == 302, start.text
    assert start.location.startswith(provider.issuer + "/authorize")
    return parse_qs(urlsplit(start.location).query)["state"][0]


def test_the_token_endpoints_refusal_is_not_shown(app, client, make_tenant, fake_provider):
    tenant = make_tenant("alpha")
    refusal = {"error": "invalid_grant", "error_description": CANARY}
    fake_provider.routes["/token"] = ("400 Bad Request", json.dumps(refusal).encode())
    _save(app, tenant, fake_provider.issuer)
    state = _start(client, fake_provider)
    response = client.get(f"/t/alpha/sso/callback?code=c&state={state}")
    assert response.status_code == 401
    assert "The identity provider refused the code." in response.text
    assert CANARY not in response.text


@pytest.mark.parametrize(
    "jwks",
    [
        pytest.param(("500 " + CANARY, CANARY.encode()), id="error-status"),
        pytest.param(("200 OK", json.dumps({"keys": [{"kty": CANARY}]}).encode()), id="bad-key"),
    ],
)
def test_what_the_key_address_answered_is_not_shown(app, client, make_tenant, fake_provider, jwks):
    tenant = make_tenant("alpha")
    token = {"access_token": "a", "token_type": "Bearer", "id_token": "e30.e30.sig"}
    fake_provider.routes["/token"] = ("200 OK", json.dumps(token).encode())
    fake_provider.routes["/jwks"] = jwks
    _save(app, tenant, fake_provider.issuer)
    state = _start(client, fake_provider)
    response = client.get(f"/t/alpha/sso/callback?code=c&state={state}")
    assert response.status_code == 502
    assert CANARY not in response.text


def test_a_provider_on_loopback_still_signs_people_in_where_private_addresses_are_allowed(
    app, client, make_tenant, make_user, oidc_provider
):
    """The control: the testing settings allow loopback, so the real flow works end to end."""
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher", email="t@alpha.example.org")
    _save(app, tenant, oidc_provider.issuer)
    oidc_provider.add_user("t-1", email="t@alpha.example.org")
    start = client.get("/t/alpha/sso/start")
    back = urlsplit(oidc_provider.authorize(start.location, "t-1"))
    assert client.get(f"{back.path}?{back.query}").status_code == 302
