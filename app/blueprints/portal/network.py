"""A member district's window on the network: opt in or out, preview, publish, compare."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, StringField
from wtforms.validators import NumberRange, Optional, Regexp

from app.blueprints.forms import flash_errors
from app.blueprints.portal.routes import bp
from app.services import network, uow
from app.services.actors import current_actor
from app.services.errors import ServiceError
from app.tenants.resolution import current_tenant
from app.workflows.vocabulary import NETWORK_GROUPS


class MembershipForm(FlaskForm):
    named = BooleanField("Show our district's name (otherwise an anonymous label)")
    noisy = BooleanField("Add differential-privacy noise to our counts")
    epsilon = DecimalField(
        "Yearly privacy budget (epsilon)",
        default=1.0,
        places=2,
        validators=[Optional(), NumberRange(0.05, 10)],
    )


class ReleaseForm(FlaskForm):
    year = StringField(
        "School year", validators=[Regexp(r"^\d{4}-\d{4}$", message="Use a label like 2009-2010.")]
    )


@bp.route("/network", methods=["GET", "POST"])
def network_page():
    tenant_id = current_tenant().id
    member = network.membership()
    form = MembershipForm(obj=member) if member else MembershipForm()
    year = request.args.get("year") or network.current_year(tenant_id)
    if form.validate_on_submit():
        try:
            if request.form.get("leave"):
                network.leave(tenant_id, current_actor())
            else:
                network.join(
                    tenant_id,
                    form.named.data,
                    form.noisy.data,
                    float(form.epsilon.data or 1.0),
                    current_actor(),
                )
            uow.commit()
            flash("Saved.", "success")
        except ServiceError as exc:
            uow.rollback()
            flash_errors(exc)
        return redirect(url_for("portal.network_page"))
    rows = network.releases(year=year)
    mine = next((r for r in rows if member and r.member_key == member.member_key), None)
    return render_template(
        "network/district.html",
        member=member,
        form=form,
        release_form=ReleaseForm(year=year),
        year=year,
        preview=network.preview(tenant_id, year),
        mine=mine,
        summary=network.summary(rows),
        others=[r for r in rows if r is not mine],
        groups=NETWORK_GROUPS,
    )


@bp.post("/network/releases")
def network_release():
    form = ReleaseForm()
    if form.validate_on_submit():
        try:
            network.request_release(current_tenant().id, form.year.data, current_actor())
            uow.commit()
            flash(f"The {form.year.data} release is being published.", "success")
        except ServiceError as exc:
            uow.rollback()
            flash_errors(exc)
    return redirect(url_for("portal.network_page", year=form.year.data))
