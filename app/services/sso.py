"""Single sign-on with a district's own OpenID Connect provider.

The authorization-code flow through Authlib's ``OAuth2Session``; the ID token
is verified with joserfc against the provider's published keys, with the
issuer, the audience (our client id), the nonce, expiry and signature all
checked. The provider vouches for an e-mail address; Parley still decides who
that is: an existing account in this district, or (when the district asks for
it) a new account with no roles until a program admin grants some.

Every address fetched here comes from the district (the issuer, and the token and
key addresses its discovery document names), so each goes through
``app.security.outbound``: public https only, checked again as the server connects.
What the provider answered is never shown: refusals are fixed sentences.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.sso import NEW_USER_POLICIES, SsoSettings
from app.models.user import User
from app.security import outbound
from app.security.emails import InvalidEmail, checked_email
from app.security.encryption import DecryptionFailed, seal, unseal
from app.services import audit, users
from app.services.actors import Actor
from app.services.errors import NotFound, ServiceError, ValidationFailed
from app.tenants.context import tenant_scope

SCOPE = "openid email profile"
#: Asymmetric signatures only: "none" and HMAC (keyed with a public value) are refused.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
_TIMEOUT = 10
#: The only things said about an address the server would not or could not fetch.
NOT_PUBLIC = "The issuer must be a public https address, e.g. https://accounts.google.com."
UNREACHABLE = "The issuer could not be reached."
ENDPOINT_NOT_PUBLIC = "The issuer's discovery document names an address that is not public https."
_BAD_DISCOVERY = "The issuer's discovery document is not a usable OpenID Connect one."
_BAD_KEYS = "The issuer's published keys could not be read."
#: Claims an ID token refusal may name (the library's own names, never the token's text).
_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "auth_time")

_log = logging.getLogger(__name__)


class SignInRefused(ServiceError):
    status = 401


@dataclass(frozen=True)
class Pending:
    """What the browser must bring back from the provider (kept in the signed session)."""

    tenant_id: int
    state: str
    nonce: str

    def as_dict(self) -> dict:
        return {"tenant_id": self.tenant_id, "state": self.state, "nonce": self.nonce}


def settings_for(tenant_id: int) -> SsoSettings | None:
    with tenant_scope(tenant_id):
        return db.session.execute(select(SsoSettings)).scalar_one_or_none()


def active_settings(tenant_id: int) -> SsoSettings | None:
    settings = settings_for(tenant_id)
    return settings if settings is not None and settings.enabled else None


def allows_passwords(settings: SsoSettings | None) -> bool:
    """Whether passwords open the portal, given the district's active settings (or none)."""
    return settings is None or settings.passwords_allowed


def passwords_allowed(tenant_id: int) -> bool:
    return allows_passwords(active_settings(tenant_id))


def save_settings(tenant_id: int, data: Mapping, actor: Actor | None = None) -> SsoSettings:
    """Create or change the district's provider settings (validated, audited, secret sealed)."""
    errors: dict[str, list[str]] = {}
    issuer = str(data.get("issuer") or "").strip().rstrip("/")
    client_id = str(data.get("client_id") or "").strip()
    secret = str(data.get("client_secret") or "")
    common = common_fields(data, errors)
    errors.update(_check_issuer(issuer))
    if not client_id:
        errors["client_id"] = ["Enter the client id the identity provider gave Parley."]
    with tenant_scope(tenant_id):
        settings = db.session.execute(select(SsoSettings)).scalar_one_or_none()
        if settings is None and not secret:
            errors["client_secret"] = ["Enter the client secret."]
        if errors:
            raise ValidationFailed(errors)
        before = _public(settings) if settings else None
        if settings is None:
            settings = SsoSettings(tenant_id=tenant_id)
            db.session.add(settings)
        common.apply(settings)
        settings.label = str(data.get("label") or "").strip()[:80] or "your district account"
        settings.issuer = issuer
        settings.client_id = client_id
        if secret:
            settings.client_secret_encrypted = seal(secret)
        db.session.flush()
        audit.record(
            tenant_id,
            "sso.settings_changed",
            "sso_settings",
            settings.id,
            before=before,
            after={**_public(settings), "client_secret_changed": bool(secret)},
            actor=actor,
        )
    return settings


def _public(settings: SsoSettings) -> dict:
    return {
        "enabled": settings.enabled,
        "label": settings.label,
        "issuer": settings.issuer,
        "client_id": settings.client_id,
        "allowed_domains": list(settings.allowed_domains or []),
        "passwords_allowed": settings.passwords_allowed,
        "new_users": settings.new_users,
    }


@dataclass(frozen=True)
class CommonFields:
    """What every protocol's settings hold alike: who may come in, and whether passwords stay."""

    enabled: bool
    domains: list[str]
    passwords: bool
    policy: str

    def apply(self, settings: SsoSettings) -> None:
        settings.enabled = self.enabled
        settings.allowed_domains = self.domains
        settings.passwords_allowed = self.passwords
        settings.new_users = self.policy


def common_fields(data: Mapping, errors: dict[str, list[str]]) -> CommonFields:
    """The fields OpenID Connect and SAML settings share, checked alike (errors added to
    ``errors``): the domains, the policy for people without an account, and that passwords
    are turned off only where some domain can still sign in."""
    policy = str(data.get("new_users") or "refuse")
    domains = _domains(data.get("allowed_domains"), errors)
    if policy not in NEW_USER_POLICIES:
        errors["new_users"] = [f"Choose one of: {', '.join(NEW_USER_POLICIES)}."]
    enabled = bool(data.get("enabled"))
    passwords = bool(data.get("passwords_allowed"))
    if enabled and not passwords and not domains:
        errors["allowed_domains"] = [
            "List at least one e-mail domain before turning passwords off."
        ]
    return CommonFields(enabled, domains, passwords, policy)


def _domains(raw, errors: dict) -> list[str]:
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    domains = sorted({str(d).strip().lower().lstrip("@") for d in raw or [] if str(d).strip()})
    bad = [d for d in domains if "." not in d or "/" in d or " " in d]
    if bad:
        errors["allowed_domains"] = [f"Not an e-mail domain: {', '.join(bad)}."]
    return domains


def _check_issuer(issuer: str) -> dict[str, list[str]]:
    """Refuse, before anything is fetched, an issuer the server may not connect to."""
    try:
        outbound.check_url(issuer)
    except outbound.OutboundRefused:
        return {"issuer": [NOT_PUBLIC]}
    except outbound.Unreachable:
        return {"issuer": [UNREACHABLE]}
    return {}


# --- the sign-in flow -----------------------------------------------------------------------


def begin(tenant_id: int, redirect_uri: str) -> tuple[str, Pending]:
    """The provider's authorization URL, and what to remember until the browser returns."""
    settings = _require(tenant_id)
    metadata = provider_metadata(settings.issuer)
    pending = Pending(tenant_id, secrets.token_urlsafe(32), secrets.token_urlsafe(32))
    url, _ = _client(settings, redirect_uri).create_authorization_url(
        metadata["authorization_endpoint"], state=pending.state, nonce=pending.nonce
    )
    return url, pending


def complete(
    tenant_id: int, pending: Mapping | None, args: Mapping[str, str], redirect_uri: str
) -> User:
    """Check the provider's answer and return the person it signs in (the caller commits)."""
    settings = _require(tenant_id)
    if not pending or pending.get("tenant_id") != tenant_id:
        raise SignInRefused({"sso": ["This sign-in was not started here or has expired."]}, 400)
    if args.get("error"):
        reason = args.get("error_description") or args["error"]
        raise SignInRefused({"sso": [f"The identity provider did not sign you in ({reason})."]})
    # RFC 9207: a provider that names itself in the answer must be the one we asked.
    if args.get("iss") and args["iss"].rstrip("/") != settings.issuer.rstrip("/"):
        raise SignInRefused({"sso": ["The answer came from another identity provider."]}, 400)
    if not hmac.compare_digest(str(args.get("state", "")), str(pending["state"])):
        raise SignInRefused({"sso": ["The answer does not belong to this sign-in."]}, 400)
    if not args.get("code"):
        raise SignInRefused({"sso": ["The identity provider sent no authorization code."]}, 400)
    metadata = provider_metadata(settings.issuer)
    try:
        token = _client(settings, redirect_uri).fetch_token(
            metadata["token_endpoint"], code=args["code"], grant_type="authorization_code"
        )
    except outbound.OutboundRefused as exc:
        raise ServiceError({"sso": [ENDPOINT_NOT_PUBLIC]}, status=502) from exc
    except requests.RequestException as exc:
        _log.warning("SSO tenant %s: the token endpoint could not be reached: %r", tenant_id, exc)
        raise ServiceError({"sso": [UNREACHABLE]}, status=502) from exc
    except Exception as exc:  # the provider's refusal, in whatever form its library raises
        _log.warning("SSO tenant %s: the token endpoint refused the code: %r", tenant_id, exc)
        raise SignInRefused({"sso": ["The identity provider refused the code."]}) from exc
    claims = verify_id_token(
        token,
        jwks=_get_json(metadata["jwks_uri"]),
        issuer=settings.issuer,
        client_id=settings.client_id,
        nonce=str(pending["nonce"]),
        algorithms=metadata.get("id_token_signing_alg_values_supported"),
    )
    return person_for(settings, claims)


def verify_id_token(
    token: Mapping,
    *,
    jwks: dict,
    issuer: str,
    client_id: str,
    nonce: str,
    algorithms: list[str] | None = None,
) -> dict:
    """The ID token's claims, if it is signed by the issuer's key, for us, for this sign-in."""
    raw = token.get("id_token")
    if not raw:
        raise SignInRefused({"sso": ["The identity provider sent no ID token."]})
    # An empty list would let joserfc fall back to its own defaults, HMAC among them.
    offered = algorithms if isinstance(algorithms, list) else []
    allowed = [a for a in offered if a in SIGNING_ALGORITHMS] or ["RS256"]
    try:
        keys = KeySet.import_key_set(jwks)
    except Exception as exc:  # whatever the provider published, in whatever way it is wrong
        raise ServiceError({"sso": [_BAD_KEYS]}, status=502) from exc
    try:
        decoded = jwt.decode(raw, keys, algorithms=allowed)
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": issuer},
                "aud": {"essential": True, "value": client_id},
            },
            {"nonce": nonce, "client_id": client_id, "access_token": token.get("access_token")},
        )
        claims.validate(leeway=60)
    except (JoseError, ValueError) as exc:
        raise SignInRefused({"sso": [_token_refusal(exc)]}) from exc
    return dict(claims)


def _token_refusal(exc: Exception) -> str:
    """Why the ID token was refused, in our words: the claim it failed, or the kind of error."""
    if isinstance(exc, ClaimError) and exc.claim in _CLAIMS:
        return f"The ID token was refused: its {exc.claim!r} claim is missing or wrong."
    kind = exc.error if isinstance(exc, JoseError) else "invalid claims"
    return f"The ID token was refused ({kind})."


def person_for(settings: SsoSettings, claims: dict) -> User:
    tenant_id = settings.tenant_id
    email = users.normalise_email(str(claims.get("email") or ""))
    if not email or claims.get("email_verified") is False:
        raise SignInRefused({"sso": ["The identity provider did not vouch for an e-mail address."]})
    domain = email.rpartition("@")[2]
    if settings.allowed_domains and domain not in settings.allowed_domains:
        _refused(tenant_id, email, "domain")
        raise SignInRefused({"sso": [f"Accounts from {domain} may not sign in here."]}, 403)
    subject = str(claims.get("sub") or "")
    with tenant_scope(tenant_id):
        user = (
            db.session.execute(select(User).where(User.sso_subject == subject)).scalar_one_or_none()
            or db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        )
        if user is not None and user.sso_subject not in (None, subject):
            # The address now belongs to another identity at the provider: not this account.
            _refused(tenant_id, email, "subject changed")
            raise SignInRefused(
                {"sso": ["This account is linked to another identity. Ask the program admin."]},
                403,
            )
        if user is None and settings.new_users == "pending":
            user = _pending(tenant_id, email, claims)
        if user is None or not user.active:
            _refused(tenant_id, email, "no account" if user is None else "disabled")
            raise SignInRefused(
                {"sso": ["You have no active account in this district. Ask its program admin."]},
                403,
            )
        user.sso_subject = subject
        return users.record_sign_in(user, channel="sso", issuer=settings.issuer, subject=subject)


def _pending(tenant_id: int, email: str, claims: dict) -> User:
    """A newcomer's account with no roles, if the provider's address is one we can store."""
    try:
        email = checked_email(email)
    except InvalidEmail as exc:
        _refused(tenant_id, email, "invalid e-mail")
        raise SignInRefused(
            {"sso": [f"The identity provider's address is not a valid e-mail address: {exc}"]},
            403,
        ) from exc
    name = str(claims.get("name") or email.partition("@")[0])
    return users.create_pending(tenant_id, email=email, name=name)


def _refused(tenant_id: int, email: str, reason: str) -> None:
    """Audit a refused sign-in and commit it: the request fails, the attempt is kept.

    The address is the provider's, unchecked: it is kept escaped to ASCII, so a hidden or
    reordering character cannot change what the audit trail shows to the admin reading it.
    """
    audit.record(
        tenant_id,
        "auth.login_failed",
        "user",
        after={
            "email": email.encode("ascii", "backslashreplace").decode(),
            "channel": "sso",
            "reason": reason,
        },
        actor=Actor.system("single sign-on"),
    )
    uow.commit()


def _require(tenant_id: int) -> SsoSettings:
    settings = active_settings(tenant_id)
    if settings is None:
        raise NotFound({"sso": ["This district does not use single sign-on."]})
    return settings


def _client(settings: SsoSettings, redirect_uri: str) -> OAuth2Session:
    try:
        secret = unseal(settings.client_secret_encrypted or "")
    except DecryptionFailed as exc:
        raise ServiceError({"sso": [str(exc)]}, status=503) from exc
    return outbound.session(
        OAuth2Session(
            settings.client_id,
            secret,
            scope=SCOPE,
            redirect_uri=redirect_uri,
            token_endpoint_auth_method="client_secret_basic",
        )
    )


def provider_metadata(issuer: str) -> dict:
    """The provider's discovery document, if it names the configured issuer and usable addresses.

    The token and key addresses are fetched by the server, so they are checked as the issuer
    is; the authorization address is only where the browser goes (https, not resolved).
    """
    metadata = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if not isinstance(metadata, dict):
        raise ServiceError({"sso": [_BAD_DISCOVERY]}, status=502)
    if str(metadata.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise SignInRefused({"sso": ["The issuer's discovery document names another issuer."]}, 502)
    endpoints = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    if not all(isinstance(metadata.get(name), str) for name in endpoints):
        raise ServiceError({"sso": [_BAD_DISCOVERY]}, status=502)
    try:
        outbound.check_url(metadata["authorization_endpoint"], resolve=False)
        outbound.check_url(metadata["token_endpoint"])
        outbound.check_url(metadata["jwks_uri"])
    except outbound.OutboundRefused as exc:
        raise ServiceError({"sso": [ENDPOINT_NOT_PUBLIC]}, status=502) from exc
    except outbound.Unreachable as exc:
        raise ServiceError({"sso": [UNREACHABLE]}, status=502) from exc
    return metadata


def _get_json(url: str) -> object:
    try:
        return outbound.get_json(url, timeout=_TIMEOUT)
    except outbound.OutboundRefused as exc:
        raise ServiceError({"sso": [NOT_PUBLIC]}, status=502) from exc
    except outbound.Unreachable as exc:
        _log.warning("SSO: %s could not be fetched: %r", url, exc.__cause__)
        raise ServiceError({"sso": [UNREACHABLE]}, status=502) from exc
