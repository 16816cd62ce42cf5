"""A real OpenID Connect provider on loopback (oidc-provider-mock), started per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oidc_provider_mock import run_server_in_thread


@dataclass
class Provider:
    issuer: str

    def add_user(self, sub: str, **claims) -> None:
        """Who the provider will vouch for, with the claims it puts in the ID token."""
        response = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5)
        response.raise_for_status()

    def authorize(self, authorization_url: str, sub: str) -> str:
        """The person ``sub`` approves the sign-in; returns where the provider redirects."""
        response = requests.post(
            authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5
        )
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]

    def id_token_for(self, client_id: str, sub: str, nonce: str) -> dict:
        """A genuine token response for ``client_id``, obtained as any client would."""
        redirect = "http://127.0.0.1/callback"
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "scope": "openid email profile",
            "state": "s",
            "nonce": nonce,
        }
        url = requests.Request("GET", f"{self.issuer}/oauth2/authorize", params=query).prepare()
        location = self.authorize(url.url, sub)
        code = parse_qs(urlsplit(location).query)["code"][0]
        response = requests.post(
            f"{self.issuer}/oauth2/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
            auth=(client_id, "any-secret"),
            timeout=5,
        )
        response.raise_for_status()
        return response.json()

    def jwks(self) -> dict:
        return requests.get(f"{self.issuer}/jwks", timeout=5).json()


def _start() -> Iterator[Provider]:
    try:
        with run_server_in_thread(port=0) as server:
            yield Provider(f"http://127.0.0.1:{server.server_port}")
    except OSError as exc:  # pragma: no cover - a machine that cannot bind loopback
        pytest.fail(f"the OpenID Connect provider could not start on loopback: {exc}")


@pytest.fixture
def oidc_provider() -> Iterator[Provider]:
    yield from _start()


@pytest.fixture
def other_oidc_provider() -> Iterator[Provider]:
    """A second, unrelated provider: its tokens must mean nothing to the first's districts."""
    yield from _start()
