"""The district's SAML 2.0 identity provider, set up by the program admin beside (instead
of) an OpenID Connect one: the page itself is ``admin.sso_settings``."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.blueprints.admin.routes import bp
from app.blueprints.auth.saml import service_provider
from app.blueprints.forms import Form, SsoSettingsForm, show_errors
from app.blueprints.operation import attempt
from app.services import saml_metadata, saml_sso
from app.services.actors import current_actor


class SamlSettingsForm(Form):
    enabled = BooleanField("Offer single sign-on on the sign-in page")
    label = StringField(
        "Button label",
        validators=[Optional(), Length(max=80)],
        description='Shown as "Sign in with …"; e.g. "Toledo Public Schools". '
        'Empty: "your district".',
    )
    idp_metadata = TextAreaField(
        "Identity provider metadata (XML)",
        description="Paste the metadata your identity provider publishes (ADFS: "
        "/FederationMetadata/2007-06/FederationMetadata.xml; Shibboleth: /idp/shibboleth), "
        "or choose the file below.",
        render_kw={"rows": 8, "spellcheck": "false"},
    )
    idp_metadata_file = FileField(
        "Or its file",
        description=f"An XML file of at most {saml_metadata.MAX_METADATA_BYTES // 1024} KB; "
        "it takes the place of anything pasted above.",
        render_kw={"accept": ".xml,application/xml,text/xml,application/samlmetadata+xml"},
    )
    # The same choices as for OpenID Connect: one setting each, whichever the protocol.
    allowed_domains = SsoSettingsForm.allowed_domains
    passwords_allowed = SsoSettingsForm.passwords_allowed
    new_users = SsoSettingsForm.new_users


#: The SAML form's fields are named ``saml-...`` on the page, beside OpenID Connect's.
PREFIX = "saml"


def settings_form(current):
    """The SAML form as the district's settings fill it (passwords on for a first setup)."""
    if current is None or current.protocol != "saml":
        return SamlSettingsForm(formdata=None, prefix=PREFIX, data={"passwords_allowed": True})
    form = SamlSettingsForm(formdata=None, prefix=PREFIX, obj=current)
    form.idp_metadata.data = current.saml_idp_metadata
    form.allowed_domains.data = " ".join(current.allowed_domains or [])
    return form


def _oidc_form() -> SsoSettingsForm:
    """The OpenID Connect form as the district's settings fill it, beside a refused SAML one."""
    current = saml_sso.settings()
    oidc = current if current is not None and current.protocol == "oidc" else None
    form = SsoSettingsForm(formdata=None, obj=oidc)
    form.allowed_domains.data = " ".join(oidc.allowed_domains or []) if oidc else ""
    form.passwords_allowed.data = oidc.passwords_allowed if oidc else True
    return form


def sso_page(oidc_form, saml_form, status: int):
    """The single sign-on page: both protocols' forms, the one in use first."""
    current = saml_sso.settings()
    return render_template(
        "admin/sso.html",
        form=oidc_form,
        saml_form=saml_form,
        settings=current,
        protocols=saml_sso.PROTOCOLS,
        callback=url_for("auth.sso_callback", _external=True),
        sp=service_provider(),
        idp=saml_sso.identity_provider(current),
    ), status


@bp.post("/sso/saml")
def saml_settings():
    """Make SAML the district's single sign-on, with its provider's metadata."""
    form = SamlSettingsForm(prefix=PREFIX)
    if not form.validate_on_submit():
        return sso_page(_oidc_form(), form, 400)
    upload = form.idp_metadata_file.data
    limit = saml_metadata.MAX_METADATA_BYTES + 1
    data = {**form.data, "idp_metadata_file": upload.read(limit) if upload else None}
    outcome = attempt(lambda: saml_sso.save_settings(data, current_actor()))
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return sso_page(_oidc_form(), form, outcome.refusal.status)
    flash("Single sign-on settings saved: the district signs in with SAML 2.0.", "success")
    return redirect(url_for("admin.sso_settings"))
