"""Addresses the server fetches on a tenant's word: https, public, and checked as it connects.

A program admin types an issuer; the server then fetches it, and the addresses its
discovery document names. Unchecked, that lets an admin make the server connect to
anything our network reaches (a database port, the cloud's metadata service) and read
the answer back in an error. So such an address must be https, and every address its
host resolves to must be public. Where ``OUTBOUND_ALLOW_PRIVATE`` is on (development
and tests, whose providers run on loopback) private addresses are allowed too, and
plain http, but only to those private addresses: http never crosses the internet.

The check runs twice: on the URL before anything is fetched (to refuse early), and
inside every connection the fetching session opens, on the very addresses the socket
then uses. A name that resolves to a public address for the first check and to a
private one a moment later (DNS rebinding), or a redirect to a private address, is
refused all the same. Callers show fixed sentences, never these exceptions' causes.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from flask import current_app, has_app_context
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

#: A discovery document or a key set is a few kilobytes; a provider sending more is refused.
MAX_JSON_BYTES = 1024 * 1024
_MAX_REDIRECTS = 5
#: Shared address space (RFC 6598): carrier-grade NAT, not the internet.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
#: IPv6 forms that carry an IPv4 address the traffic ends up at.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """Not an address the server may fetch: its scheme, its host or one of its addresses."""


class Unreachable(Exception):
    """The address could not be fetched (no such host, no answer, or not the JSON expected)."""


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raise unless the server may fetch ``url`` (``resolve=False``: only its scheme and host).

    ``OutboundRefused`` for a scheme or an address the policy refuses, ``Unreachable``
    for a host that does not resolve. Nothing is connected to.
    """
    try:
        parts = urlsplit(url)
        port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # brackets that do not close, a port that is not a number
        raise OutboundRefused("not an address") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname or "@" in parts.netloc:
        raise OutboundRefused("not an http(s) address with a host")
    if not 0 < port < 65536:
        raise OutboundRefused("not a port")
    if parts.scheme == "http" and not _allow_private():
        raise OutboundRefused("http")
    if resolve:
        _checked_addresses(parts.hostname, port, parts.scheme)


def session(base: requests.Session | None = None) -> requests.Session:
    """``base`` (or a new session) made to connect only to addresses the policy allows.

    Give it Authlib's ``OAuth2Session`` to put the token exchange under the same check.
    """
    checked = base if base is not None else requests.Session()
    # A proxy from the environment would make the connection for us, unchecked.
    checked.trust_env = False
    checked.proxies = {}
    checked.max_redirects = _MAX_REDIRECTS
    adapter = _CheckedAdapter()
    checked.mount("https://", adapter)
    checked.mount("http://", adapter)
    return checked


def get_json(url: str, *, timeout: float = 10) -> Any:
    """The JSON document at ``url``, fetched only from an allowed address.

    Raises ``OutboundRefused`` or ``Unreachable``; neither says what the remote answered.
    """
    check_url(url)
    try:
        with session() as http, http.get(url, timeout=timeout, stream=True) as response:
            response.raise_for_status()
            body = response.raw.read(MAX_JSON_BYTES + 1, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise Unreachable("no answer") from exc
    if len(body) > MAX_JSON_BYTES:
        raise Unreachable("too large")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise Unreachable("not JSON") from exc


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is on the internet (IPv6 forms of IPv4 addresses judged as those)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address in _NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None:
            return is_public(address.sixtofour)
    if address.version == 4 and address in _SHARED:
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _allow_private() -> bool:
    # Outside an application there is no setting to read: refuse.
    return has_app_context() and bool(current_app.config.get("OUTBOUND_ALLOW_PRIVATE"))


def _checked_addresses(host: str, port: int, scheme: str) -> list[str]:
    """Every address ``host`` resolves to, if the policy allows each one of them."""
    try:
        found = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise Unreachable("no such host") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    allow_private = _allow_private()
    for address in addresses:
        public = is_public(ipaddress.ip_address(address))
        # Private addresses only where allowed; plain http only to those.
        if (not public and not allow_private) or (scheme == "http" and public):
            raise OutboundRefused("address")
    if not addresses:
        raise Unreachable("no address")
    return addresses


class _CheckedConnection(HTTPConnection):
    """Resolves its host itself, checks every address, and connects only to those."""

    _scheme = "http"

    def _new_conn(self) -> socket.socket:
        try:
            addresses = _checked_addresses(self._dns_host, self.port, self._scheme)
        except Unreachable as exc:
            raise NewConnectionError(self, "the host does not resolve") from exc
        last: OSError | None = None
        for address in addresses:
            try:
                sock = create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as exc:
                last = exc
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        if isinstance(last, TimeoutError):
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from last
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}") from last


class _CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    """TLS as usual (certificate and SNI for the host name), over the checked socket."""

    _scheme = "https"


class _CheckedPool(HTTPConnectionPool):
    ConnectionCls = _CheckedConnection


class _CheckedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _CheckedHTTPSConnection


class _CheckedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _CheckedPool, "https": _CheckedHTTPSPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise OutboundRefused("proxies are not used for tenant addresses")
