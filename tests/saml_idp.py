"""A real SAML 2.0 identity provider on loopback (pysaml2's ``Server``), started per test.

It has its own key pair, made at test time and written to the test's temporary folder,
and answers an AuthnRequest sent by HTTP-Redirect the way ADFS and Shibboleth do: with
a page whose form posts a signed assertion to the service provider's ACS address. Tests
read that form (``authorize``) and post it where a browser would. ``answer`` builds an
answer directly for the tests that forge one.
"""

from __future__ import annotations

import base64
import datetime
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response


def key_pair(folder: Path, name: str) -> tuple[str, str]:
    """A fresh RSA key and a self-signed certificate for it, as PEM files in ``folder``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


@dataclass(frozen=True)
class Answer:
    """The form the provider's page posts: where, and what."""

    action: str
    saml_response: str
    relay_state: str

    @property
    def path(self) -> str:
        return urlsplit(self.action).path

    def form(self) -> dict[str, str]:
        return {"SAMLResponse": self.saml_response, "RelayState": self.relay_state}


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs) -> None:
        found = dict(attrs)
        if tag == "form":
            self.action = found.get("action") or ""
        if tag == "input" and found.get("name"):
            self.values[found["name"]] = found.get("value") or ""


@dataclass
class IdentityProvider:
    entity_id: str
    folder: Path
    #: Another provider's key may sign in this one's name (a forgery).
    key_name: str = "idp"
    users: dict[str, dict] = field(default_factory=dict)
    _service_providers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key_file, self.cert_file = key_pair(self.folder, self.key_name)
        self.server = self._server()

    @property
    def sso_url(self) -> str:
        return f"{self.entity_id}/sso/redirect"

    def _config(self, sign_alg: str | None = None) -> IdPConfig:
        return IdPConfig().load(
            {
                "entityid": self.entity_id,
                "xmlsec_binary": "/usr/bin/xmlsec1",
                "key_file": self.key_file,
                "cert_file": self.cert_file,
                "service": {
                    "idp": {
                        "endpoints": {
                            "single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)]
                        },
                        "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": 5},
                                "attribute_restrictions": None,
                                "sign": "assertion",
                            }
                        },
                    }
                },
                "metadata": {"inline": list(self._service_providers)},
            }
        )

    def _server(self) -> Server:
        return Server(config=self._config())

    def metadata(self) -> str:
        """What the district's program admin pastes into Parley."""
        return create_metadata_string(None, config=self._config(), sign=False).decode()

    def trust(self, sp_metadata: str) -> None:
        """Register a service provider (its metadata, as Parley serves it)."""
        self._service_providers.append(sp_metadata)
        self.server = self._server()

    def add_user(self, uid: str, **attributes: str) -> None:
        self.users[uid] = {name: [value] for name, value in attributes.items()}

    def answer(
        self,
        request_id: str | None,
        uid: str,
        *,
        acs_url: str,
        audience: str,
        sign: bool = True,
        name_id_format: str = NAMEID_FORMAT_PERSISTENT,
        sha1: bool = False,
    ) -> str:
        """A response for ``uid`` to ``request_id``, base64 as the POST binding carries it."""
        response = self.server.create_authn_response(
            self.users[uid],
            request_id,
            acs_url,
            audience,
            name_id=NameID(format=name_id_format, text=uid),
            authn={"class_ref": saml.AUTHN_PASSWORD_PROTECTED, "authn_auth": self.entity_id},
            sign_assertion=sign,
            sign_response=False,
            # SHA-256, as ADFS and Shibboleth sign by default; SHA-1 for the test that refuses it.
            sign_alg=SIG_RSA_SHA1 if sha1 else SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA1 if sha1 else DIGEST_SHA256,
        )
        return base64.b64encode(str(response).encode()).decode()

    def authorize(self, location: str, uid: str) -> Answer:
        """``uid`` signs in at the provider; the page it answers with, read as its form."""
        page = requests.get(location, params={"user": uid}, timeout=10)
        assert page.status_code == 200, page.text[:500]
        inputs = _Inputs()
        inputs.feed(page.text)
        return Answer(inputs.action, inputs.values["SAMLResponse"], inputs.values["RelayState"])

    def wsgi(self, environ, start_response):
        request = Request(environ)
        if request.path != urlsplit(self.sso_url).path:
            return Response("not found", status=404)(environ, start_response)
        parsed = self.server.parse_authn_request(request.args["SAMLRequest"], BINDING_HTTP_REDIRECT)
        message = parsed.message
        uid = request.args.get("user")
        if uid is None:
            return self._sign_in_page(request)(environ, start_response)
        binding_out, destination = self.server.pick_binding(
            "assertion_consumer_service",
            bindings=[BINDING_HTTP_POST],
            entity_id=message.issuer.text,
        )
        saml_response = self.answer(
            message.id, uid, acs_url=destination, audience=message.issuer.text
        )
        relay_state = request.args.get("RelayState", "")
        page = (
            f'<html><body><form method="post" action="{destination}">'
            f'<input type="hidden" name="SAMLResponse" value="{saml_response}">'
            f'<input type="hidden" name="RelayState" value="{escape(relay_state)}">'
            "<button>Continue</button></form></body></html>"
        )
        assert binding_out == BINDING_HTTP_POST
        return Response(page, mimetype="text/html")(environ, start_response)

    @staticmethod
    def _sign_in_page(request: Request) -> Response:
        """The provider's own sign-in form, for a person in a browser."""
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{escape(request.args[name])}">'
            for name in ("SAMLRequest", "RelayState")
            if name in request.args
        )
        page = (
            '<html lang="en"><head><title>Sign in</title></head><body><form method="get">'
            f'{hidden}<label for="user">User name</label><input id="user" name="user">'
            "<button>Sign in</button></form></body></html>"
        )
        return Response(page, mimetype="text/html")


def request_id_in(location: str) -> str:
    """The ID of the AuthnRequest a redirect to the provider carries."""
    from saml2.s_utils import decode_base64_and_inflate
    from saml2.samlp import authn_request_from_string

    query = parse_qs(urlsplit(location).query)
    return authn_request_from_string(decode_base64_and_inflate(query["SAMLRequest"][0])).id


def start(tmp_path_factory, name: str, host: str = "127.0.0.1") -> Iterator[IdentityProvider]:
    """Serve a new provider on a free loopback port until the generator closes; ``host`` is
    the name it is known by (``localhost`` makes it another site than ``127.0.0.1``)."""
    folder = tmp_path_factory.mktemp(name)
    holder: dict[str, IdentityProvider] = {}
    httpd = make_server("127.0.0.1", 0, lambda e, s: holder["idp"].wsgi(e, s), threaded=True)
    holder["idp"] = IdentityProvider(f"http://{host}:{httpd.server_port}/idp", folder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["idp"]
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


def impostor(idp: IdentityProvider) -> IdentityProvider:
    """A provider that claims ``idp``'s entity ID but signs with a key of its own."""
    forger = IdentityProvider(idp.entity_id, idp.folder, key_name="impostor", users=idp.users)
    forger._service_providers = list(idp._service_providers)
    forger.server = forger._server()
    return forger
