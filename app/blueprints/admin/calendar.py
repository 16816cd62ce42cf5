"""The district calendar: the program admin lists the weekdays the district is closed, so
windows counted in working days (an appeal's) pass over them."""

from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length

from app.blueprints.admin.routes import bp
from app.blueprints.forms import Form, show_errors
from app.blueprints.operation import attempt
from app.services import calendar


class ClosedDayForm(Form):
    """A weekday the district is closed, and why (checked again by the service)."""

    day = DateField(
        "Day",
        validators=[DataRequired("Choose the day the district is closed.")],
        description="A weekday: Saturdays and Sundays are never working days.",
    )
    label = StringField(
        "Why the district is closed",
        validators=[
            DataRequired("Say why the district is closed that day."),
            Length(
                max=calendar.LABEL_MAX,
                message=f"Keep the label to {calendar.LABEL_MAX} characters.",
            ),
        ],
        description="For example: Thanksgiving, Winter break.",
        render_kw={"maxlength": calendar.LABEL_MAX},
    )


class RemoveClosedDayForm(Form):
    """The day to make a working day again (sent by the confirmed remove button)."""

    errors_on_top = True
    day = DateField("Day", validators=[DataRequired("Choose the day to remove.")])


def _year() -> int:
    """The school year asked for (``?year=`` its first calendar year), else the current one."""
    year = request.args.get("year", type=int)
    if year is None or not 1900 <= year <= 9998:
        year = calendar.school_year_of(date.today())[0].year
    return year


def _page(form: ClosedDayForm, remove_form: RemoveClosedDayForm, year: int, status: int = 200):
    first, last = calendar.school_year_starting(year)
    return render_template(
        "admin/calendar.html",
        form=form,
        remove_form=remove_form,
        year=year,
        first=first,
        last=last,
        days=calendar.closed_days(year),
    ), status


@bp.route("/calendar", methods=["GET", "POST"])
def calendar_page():
    """The closed days of one school year, and the form to add one."""
    form, year = ClosedDayForm(), _year()
    if not form.validate_on_submit():
        return _page(form, RemoveClosedDayForm(formdata=None), year, 400 if form.errors else 200)
    outcome = attempt(
        lambda: calendar.add_closed_day(form.day.data, form.label.data, current_user.user)
    )
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _page(form, RemoveClosedDayForm(formdata=None), year, outcome.refusal.status)
    day = outcome.result.day
    flash(f"{day.isoformat()} is a closed day: it no longer counts as a working day.", "success")
    return redirect(url_for("admin.calendar_page", year=calendar.school_year_of(day)[0].year))


@bp.post("/calendar/remove")
def calendar_remove():
    """Make a closed day a working day again (after the button's confirmation)."""
    form, year = RemoveClosedDayForm(), _year()
    if form.validate_on_submit():
        outcome = attempt(lambda: calendar.remove_closed_day(form.day.data, current_user.user))
        if outcome.ok:
            flash(f"{form.day.data.isoformat()} is a working day again.", "success")
            return redirect(url_for("admin.calendar_page", year=year))
        form.form_errors.extend(outcome.refusal.text().split("\n"))
        status = outcome.refusal.status
    else:
        form.form_errors.extend(m for messages in form.errors.values() for m in messages)
        status = 400
    return _page(ClosedDayForm(formdata=None), form, year, status)
