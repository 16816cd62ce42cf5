"""A member district's window on the network: opt in or out, preview, publish, compare."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from wtforms import BooleanField, RadioField, StringField
from wtforms.validators import NumberRange, Optional, Regexp

from app.blueprints.forms import FiniteDecimalField, Form, flash_invalid, perform
from app.blueprints.portal.routes import bp
from app.services import network
from app.services.actors import current_actor
from app.workflows.vocabulary import NETWORK_GROUPS


class MembershipForm(Form):
    named = BooleanField("Show our district's name (otherwise an anonymous label)")
    noisy = BooleanField("Add differential-privacy noise to our counts")
    epsilon = FiniteDecimalField(
        "Yearly privacy budget (epsilon)",
        default=1.0,
        places=2,
        validators=[Optional(), NumberRange(0.05, 10)],
    )
    earlier = RadioField(
        "Your releases published under your name",
        choices=[
            ("withdraw", "Withdraw them from the network"),
            ("keep", "Keep them, under your name"),
        ],
        validators=[Optional()],
    )


class ReleaseForm(Form):
    year = StringField(
        "School year", validators=[Regexp(r"^\d{4}-\d{4}$", message="Use a label like 2009-2010.")]
    )


@bp.route("/network", methods=["GET", "POST"])
def network_page():
    member = network.membership()
    # The saved budget is named differently on the row, so it is given by name.
    form = (
        MembershipForm(obj=member, epsilon=member.epsilon_per_year) if member else MembershipForm()
    )
    year = request.args.get("year") or network.current_year()
    if form.validate_on_submit():
        leaving = bool(request.form.get("leave"))
        perform(
            lambda: (
                network.leave(current_actor())
                if leaving
                else network.join(
                    form.named.data,
                    form.noisy.data,
                    float(form.epsilon.data or 1.0),
                    current_actor(),
                    earlier=form.earlier.data,
                )
            ),
            "Saved.",
        )
        return redirect(url_for("portal.network_page"))
    years = {y.year: y for y in network.ledger()}
    return render_template(
        "network/district.html",
        member=member,
        form=form,
        release_form=ReleaseForm(year=year),
        year=year,
        view=network.district_view(year),
        this_year=years.get(year),
        named_years=network.named_releases() if member and member.named else [],
        groups=NETWORK_GROUPS,
    )


@bp.post("/network/releases")
def network_release():
    form = ReleaseForm()
    if form.validate_on_submit():
        perform(
            lambda: network.request_release(form.year.data, current_actor()),
            f"Asked to publish the {form.year.data} release: its result (published, or why "
            "not) shows under the year once it is done; reload in a moment if it is not there.",
        )
    else:
        flash_invalid(form)
    return redirect(url_for("portal.network_page", year=form.year.data))
