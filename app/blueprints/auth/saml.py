"""Signing in through the district's SAML 2.0 identity provider: the start (an
AuthnRequest by HTTP-Redirect), the assertion consumer service (the provider's answer by
HTTP-POST) and Parley's metadata for the provider.

The browser's outstanding request travels in a cookie of its own, signed by the app and
sent only to these addresses: the session cookie is ``SameSite=Lax``, which a browser does
not send with the provider's cross-site POST, so the signed session could not carry it.
This one is ``SameSite=None; Secure``, good for ``PENDING_MINUTES`` and deleted at the
answer, whatever it was.
"""

from __future__ import annotations

from flask import (
    Response,
    after_this_request,
    current_app,
    redirect,
    request,
    url_for,
)
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired

from app.blueprints.auth.routes import _landing, _login_page, _no_sso, bp
from app.blueprints.forms import Form, LoginForm
from app.blueprints.operation import attempt
from app.extensions import csrf
from app.security.identity import TenantPrincipal, begin_session
from app.services import saml_metadata as metadata
from app.services import saml_sso
from app.tenants.resolution import current_tenant

PENDING_COOKIE = "parley-saml"
_SALT = "parley-saml-pending"


class SamlResponseForm(Form):
    """What the identity provider posts; its signature, not a CSRF token, is what counts."""

    class Meta(Form.Meta):
        csrf = False

    SAMLResponse = TextAreaField(  # the binding's own field names
        "SAML response", validators=[DataRequired("The identity provider sent no answer.")]
    )
    RelayState = StringField("Relay state")


def service_provider() -> metadata.ServiceProvider:
    """Parley's entity ID and ACS address for this district, from ``PUBLIC_BASE_URL``
    rather than the request's Host header, which whoever sends the request chooses."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return metadata.ServiceProvider(
        entity_id=base + url_for("auth.saml_metadata"), acs_url=base + url_for("auth.saml_acs")
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def _cookie_path() -> str:
    return url_for("auth.saml_login").rsplit("/", 1)[0] + "/"


def _remember(response: Response, pending: saml_sso.Pending, wanted: str | None) -> None:
    response.set_cookie(
        PENDING_COOKIE,
        _serializer().dumps({**pending.as_dict(), "next": wanted}),
        max_age=saml_sso.PENDING_MINUTES * 60,
        path=_cookie_path(),
        secure=True,
        httponly=True,
        samesite="None",
    )


def _pending() -> dict | None:
    """The sign-in this browser started, if its cookie is ours and fresh; spent either way."""
    raw = request.cookies.get(PENDING_COOKIE)
    path = _cookie_path()

    @after_this_request
    def _forget(response: Response) -> Response:
        response.delete_cookie(PENDING_COOKIE, path=path, secure=True, samesite="None")
        return response

    if not raw:
        return None
    try:
        found = _serializer().loads(raw, max_age=saml_sso.PENDING_MINUTES * 60)
    except BadSignature:
        return None
    return found if isinstance(found, dict) else None


@bp.get("/sso/saml/login")
def saml_login():
    """Send the browser to the district's SAML provider with an AuthnRequest."""
    if saml_sso.active() is None:
        return _no_sso()
    location, pending = saml_sso.begin(service_provider())
    response = redirect(location)
    _remember(response, pending, request.args.get("next"))
    return response


@bp.post("/sso/saml/acs")
def saml_acs():
    """The provider's answer: checked, then the person it names is signed in."""
    pending = _pending()
    if saml_sso.active() is None:
        return _no_sso()
    form = SamlResponseForm()
    if not form.validate():
        return _login_page(LoginForm(formdata=None), 400, [saml_sso.REFUSALS["unreadable"]])
    # A refused answer is audited and committed by the service before it refuses.
    outcome = attempt(
        lambda: saml_sso.complete(service_provider(), pending, form.SAMLResponse.data)
    )
    if not outcome.ok:
        refusal = outcome.refusal
        return _login_page(LoginForm(formdata=None), refusal.status, [refusal.text()])
    begin_session(TenantPrincipal(outcome.result))
    return redirect(_landing(outcome.result, (pending or {}).get("next")))


csrf.exempt(saml_acs)


@bp.get("/sso/saml/metadata")
def saml_metadata():
    """Parley's SAML metadata for the district's provider (served before SAML is set up, so
    the provider's side can be registered first)."""
    body = metadata.sp_metadata(service_provider())
    response = Response(body, mimetype="application/samlmetadata+xml")
    name = f"parley-{current_tenant().slug}-saml-metadata.xml"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
