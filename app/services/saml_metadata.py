"""SAML 2.0 metadata: the district's identity provider as its metadata describes it
(checked as the program admin saves it), Parley as the provider knows it, and pysaml2's
configuration of the two for one district.

Signatures are checked by Debian's ``xmlsec1`` against the certificates of the saved
metadata only (``only_use_keys_in_metadata``), never against a key an answer carries.
"""

from __future__ import annotations

import base64
import binascii
import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.attribute_converter import ac_factory
from saml2.config import SPConfig
from saml2.mdstore import InMemoryMetaData
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_PERSISTENT

from app.security import outbound
from app.services.errors import ValidationFailed

#: Metadata of one identity provider is tens of kilobytes; a federation's aggregate is not
#: what a district pastes here.
MAX_METADATA_BYTES = 512 * 1024
#: Clock difference tolerated between the provider and us, in seconds.
CLOCK_SKEW = 60

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceProvider:
    """Parley as the district's identity provider knows it (from the district's address)."""

    entity_id: str
    acs_url: str


@dataclass(frozen=True)
class IdentityProvider:
    """What the district's metadata says about its identity provider."""

    entity_id: str
    sso_url: str
    #: When each signing certificate expires.
    certificates_expire: tuple[datetime, ...]


def read_metadata(raw: str | bytes) -> IdentityProvider:
    """The one identity provider ``raw`` describes, or every reason it cannot be used."""
    text = metadata_text(raw)
    try:
        metadata = InMemoryMetaData(ac_factory(), metadata=text)
        metadata.load()
    except Exception as exc:  # pysaml2 raises whatever its parser met
        _log.info("SAML metadata refused: %r", exc)
        raise _metadata_error(
            "This is not SAML 2.0 metadata (or its validUntil date has passed)."
        ) from exc
    providers = [eid for eid, entity in metadata.items() if entity.get("idpsso_descriptor")]
    if not providers:
        raise _metadata_error("This is not SAML 2.0 metadata of an identity provider.")
    if len(providers) > 1:
        raise _metadata_error(
            "The metadata must describe exactly one identity provider "
            f"(it describes {len(providers)})."
        )
    entity_id = providers[0]
    errors = []
    sso_url = _redirect_endpoint(metadata, entity_id, errors)
    expires = _certificate_ends(metadata, entity_id, errors)
    if errors:
        raise ValidationFailed({"idp_metadata": errors})
    return IdentityProvider(entity_id, sso_url, expires)


def metadata_text(raw: str | bytes) -> str:
    if isinstance(raw, bytes):
        if len(raw) > MAX_METADATA_BYTES:
            raise _metadata_error("The metadata is larger than 512 KB.")
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _metadata_error("The metadata file is not UTF-8 text.") from exc
    text = (raw or "").strip()
    if not text:
        raise _metadata_error("Paste the identity provider's metadata or choose its file.")
    if len(text.encode()) > MAX_METADATA_BYTES:
        raise _metadata_error("The metadata is larger than 512 KB.")
    return text


def _metadata_error(message: str) -> ValidationFailed:
    return ValidationFailed({"idp_metadata": [message]})


def _redirect_endpoint(metadata: InMemoryMetaData, entity_id: str, errors: list) -> str:
    """The provider's single sign-on address for the HTTP-Redirect binding."""
    services = metadata.service(
        entity_id, "idpsso_descriptor", "single_sign_on_service", BINDING_HTTP_REDIRECT
    )
    locations = [s.get("location") for s in services or [] if isinstance(s, dict)]
    if not locations or not locations[0]:
        errors.append("The identity provider has no single sign-on address for HTTP-Redirect.")
        return ""
    try:
        outbound.check_url(locations[0], resolve=False)
    except outbound.OutboundRefused:
        errors.append("The identity provider's single sign-on address must be https.")
    return locations[0]


def _certificate_ends(metadata: InMemoryMetaData, entity_id: str, errors: list) -> tuple:
    """When each of the provider's signing certificates expires; none, or all expired, is
    an error: nothing could then check its signatures."""
    ends = []
    for _name, cert in metadata.certs(entity_id, "idpsso", "signing"):
        try:
            der = base64.b64decode("".join(str(cert).split()), validate=True)
            ends.append(x509.load_der_x509_certificate(der).not_valid_after_utc)
        except (ValueError, binascii.Error):
            errors.append("A signing certificate in the metadata cannot be read.")
            return ()
    if not ends:
        errors.append("The identity provider's metadata has no signing certificate.")
    elif max(ends) < datetime.now(UTC):
        errors.append(f"Every signing certificate expired (the last on {max(ends):%Y-%m-%d}).")
    return tuple(ends)


def sp_metadata(sp: ServiceProvider) -> str:
    """Parley's metadata for the district's identity provider: entity ID, ACS address, and
    the promise to want signed assertions. No signing key: requests are not signed."""
    descriptor = entity_descriptor(config(sp, None))
    descriptor.extensions = None  # pysaml2 lists every algorithm xmlsec1 knows, MD5 included
    return descriptor.to_string().decode()


def xmlsec_binary() -> str | None:
    """Where Debian's xmlsec1 is, or None on a server without it."""
    return shutil.which("xmlsec1")


def config(sp: ServiceProvider, idp_metadata: str | None) -> SPConfig:
    """pysaml2's configuration of Parley for one district and (when given) its provider."""
    config = {
        "entityid": sp.entity_id,
        # Without a provider only the metadata is written: no xmlsec1 run is needed.
        "xmlsec_binary": xmlsec_binary() if idp_metadata is not None else None,
        "crypto_backend": "xmlsec1",
        "only_use_keys_in_metadata": True,
        "allow_unknown_attributes": True,
        "accepted_time_diff": CLOCK_SKEW,
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(sp.acs_url, BINDING_HTTP_POST)]},
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "authn_requests_signed": False,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_EMAILADDRESS],
            }
        },
    }
    if idp_metadata is not None:
        config["metadata"] = {"inline": [idp_metadata]}
    return SPConfig().load(config)
