"""Verify a document: anyone (no sign-in) uploads a PDF and learns, in plain words, whether
it is an unaltered document signed by this district. Mirrors the public enrollment page:
one page per district portal, CSRF like every form, rate limited like the other public
forms (``app.security.limits``)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_wtf.file import FileField, FileRequired, FileSize

from app.blueprints.forms import Form
from app.services import document_signing

bp = Blueprint("verify", __name__, url_prefix="/t/<tenant_slug>")

#: The largest file checked: a signed letter or report is a few dozen kilobytes.
MAX_BYTES = 10 * 1024 * 1024


class VerifyForm(Form):
    document = FileField(
        "The PDF to check",
        validators=[
            FileRequired("Choose the PDF to check."),
            FileSize(MAX_BYTES, message="Choose a PDF of at most 10 MB."),
        ],
        description="A decision letter or report downloaded from this district's portal.",
    )


@bp.route("/verify", methods=["GET", "POST"])
def form():
    form = VerifyForm()
    if not form.validate_on_submit():
        return _page(form, None, 400 if form.errors else 200)
    return _page(form, document_signing.verify_pdf(form.document.data.read(MAX_BYTES + 1)), 200)


def _page(form: VerifyForm, result: document_signing.Verification | None, status: int):
    return render_template(
        "verify/form.html", form=form, result=result, Verdict=document_signing.Verdict
    ), status
