"""Document signing: the district's signing certificate, its retired keys, and rotation."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user
from wtforms import BooleanField
from wtforms.validators import DataRequired

from app.blueprints.admin.routes import bp
from app.blueprints.forms import Form, perform
from app.services import document_signing
from app.services.actors import Actor


class RotateForm(Form):
    """Rotation is confirmed by an explicit tick, never by default."""

    confirm = BooleanField(
        "Retire the current key: documents are signed with a new one from now on",
        validators=[DataRequired("Tick the box to confirm the rotation.")],
    )


@bp.get("/signing")
def signing():
    return _page(RotateForm())


@bp.post("/signing/rotate")
def signing_rotate():
    form = RotateForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    perform(
        lambda: document_signing.rotate(Actor.of(current_user.user)),
        lambda key: f"A new signing key is in use (fingerprint {key.fingerprint[:16]}…).",
    )
    return redirect(url_for("admin.signing"))


def _page(form: RotateForm, status: int = 200):
    keys = document_signing.keys()
    current = next((k for k in keys if k.retired_at is None), None)
    return render_template(
        "admin/signing.html",
        form=form,
        current=current,
        retired=[k for k in keys if k.retired_at is not None],
    ), status
