"""The district's signature on the PDFs it hands out (PAdES, pyHanko), and checking one.

One key pair and self-signed certificate per district, made when the district is created
(or on first use for one created earlier), the private key sealed like the SSO secret and
never exported. Rotation retires the current key and keeps it, so a document signed before
still verifies as the district's. ``verify_pdf`` trusts only the district's own
certificates and calls any change after signing a change.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from hashlib import sha256

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.signing import SigningKey
from app.models.tenant import Tenant
from app.security.encryption import seal, unseal
from app.services import audit
from app.services.actors import Actor
from app.tenants.context import require_tenant_id

# --- The district's signing key --------------------------------------------------------

#: How long a district certificate is valid: documents are kept for decades.
_CERTIFICATE_YEARS = 50


def current_key() -> SigningKey:
    """The district's current signing key, made now if it has none (a district created
    before keys existed, or one whose key was never made)."""
    key = _current()
    if key is not None:
        return key
    _lock_district()
    return _current() or _make_key("signing.key_created")


def keys() -> list[SigningKey]:
    """Every key of the district, the current one first, then the retired ones newest first."""
    rows = db.session.execute(select(SigningKey).order_by(SigningKey.id.desc())).scalars()
    return sorted(rows, key=lambda k: k.retired_at is not None)


def rotate(actor: Actor | None = None) -> SigningKey:
    """Retire the current key and make a new one. Documents signed with the retired key
    still verify as the district's (they say it was signed with a retired key)."""
    _lock_district()
    old = _current()
    if old is not None:
        old.retired_at = utcnow()
    return _make_key(
        "signing.key_rotated",
        actor,
        before={"fingerprint": old.fingerprint} if old else None,
    )


def _current() -> SigningKey | None:
    return (
        db.session.execute(
            select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.id.desc())
        )
        .scalars()
        .first()
    )


def _lock_district() -> Tenant:
    """Two requests making the first key at once: the second waits, then finds it."""
    tenant_id = require_tenant_id()
    return db.session.execute(
        select(Tenant).where(Tenant.id == tenant_id).with_for_update()
    ).scalar_one()


def _make_key(action: str, actor: Actor | None = None, *, before: dict | None = None) -> SigningKey:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    tenant = db.session.get(Tenant, require_tenant_id())
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, _fit(f"{tenant.name} — Parley documents")),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(tenant.name)),
        ]
    )
    now = utcnow()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=365 * _CERTIFICATE_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(private.public_key()), critical=False
        )
        .sign(private, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    key = SigningKey(
        tenant_id=tenant.id,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        private_key_encrypted=seal(
            private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
        ),
        fingerprint=sha256(der).hexdigest(),
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        tenant.id,
        action,
        "signing_key",
        key.id,
        before=before,
        after={"fingerprint": key.fingerprint},
        actor=actor or Actor.system("document signing"),
    )
    return key


def _fit(text: str, limit: int = 64) -> str:
    """``text`` cut to the 64 bytes (UTF-8) X.509 allows in a name, never mid-character."""
    return text.encode()[:limit].decode(errors="ignore")


# --- Signing and verifying PDFs --------------------------------------------------------

#: The signature field every Parley document carries.
FIELD_NAME = "District signature"


def sign_pdf(pdf: bytes, *, reason: str) -> bytes:
    """``pdf`` signed by the district (the ambient tenant) with its current key: a PAdES
    baseline signature over the whole file, so any later change shows."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = current_key()
    tenant = db.session.get(Tenant, require_tenant_id())
    certificate = asn1_x509.Certificate.load(_der(key.certificate_pem))
    _, _, private_der = pem.unarmor(unseal(key.private_key_encrypted).encode())
    signer = signers.SimpleSigner(
        signing_cert=certificate,
        signing_key=asn1_keys.PrivateKeyInfo.load(private_der),
        cert_registry=SimpleCertificateStore.from_certs([certificate]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        name=tenant.name,
    )
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer)
    return out.getvalue()


class Verdict(Enum):
    """What the verify page answers, in the reader's words."""

    UNALTERED = "unaltered"
    CHANGED = "changed"
    NOT_OURS = "not_ours"
    NOT_SIGNED = "not_signed"


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    signed_at: datetime | None = None
    fingerprint: str | None = None
    #: Whether the key that signed is the district's current one (else retired).
    current_key: bool | None = None


def verify_pdf(data: bytes) -> Verification:
    """Whether ``data`` is a PDF the district (the ambient tenant) signed and nobody
    changed since: the signature must be intact, valid, made by one of the district's
    keys (current or retired) and cover the whole file (nothing appended after it)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        embedded = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception:  # any file that does not parse is "not a signed PDF"
        return Verification(Verdict.NOT_SIGNED)
    if not embedded:
        return Verification(Verdict.NOT_SIGNED)
    district = {k.fingerprint: k for k in keys()}
    ours = [s for s in embedded if _fingerprint(s) in district]
    if not ours:
        return Verification(Verdict.NOT_OURS)
    signature = ours[-1]
    key = district[_fingerprint(signature)]
    context = ValidationContext(
        trust_roots=[_asn1_certificate(k.certificate_pem) for k in district.values()]
    )
    try:
        status = validate_pdf_signature(signature, context)
    except Exception:  # a signature that cannot be checked is not intact
        return Verification(Verdict.CHANGED, fingerprint=key.fingerprint)
    unaltered = (
        status.intact
        and status.valid
        and status.trusted
        and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        and signature is embedded[-1]
    )
    return Verification(
        Verdict.UNALTERED if unaltered else Verdict.CHANGED,
        signed_at=status.signer_reported_dt,
        fingerprint=key.fingerprint,
        current_key=key.retired_at is None,
    )


def _der(certificate_pem: str) -> bytes:
    from asn1crypto import pem

    _, _, der = pem.unarmor(certificate_pem.encode())
    return der


def _asn1_certificate(certificate_pem: str):
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(_der(certificate_pem))


def _fingerprint(signature) -> str | None:
    try:
        return sha256(signature.signer_cert.dump()).hexdigest()
    except Exception:  # a malformed signature names no certificate
        return None
