"""The calendar feed pages: the person's own address on their account page (made, shown
once, stopped), and the feed itself, fetched by a calendar app with the address's secret.

The feed's secret is its only credential: the route is open to no session (a calendar app
has none), answers only the secret's owner's events, sets no cookie, and says the same
"not found" for an unknown, stopped or other district's address.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.feeds.forms import CreateFeedForm, RevokeFeedForm
from app.blueprints.operation import attempt
from app.services import calendar_feeds

bp = Blueprint("feeds", __name__, url_prefix="/t/<tenant_slug>")

#: How long a calendar app or a proxy on the person's side may keep a copy.
FEED_CACHE = "private, max-age=300"


def _page(status: int = 200, address: str | None = None, create_form=None, revoke_form=None):
    feed = calendar_feeds.live_feed(current_user.user)
    if revoke_form is None:
        revoke_form = RevokeFeedForm(formdata=None, calendar_feed_id=feed.id if feed else None)
    return render_template(
        "feeds/account.html",
        feed=feed,
        address=address,
        create_form=create_form or CreateFeedForm(formdata=None),
        revoke_form=revoke_form,
    ), status


@bp.route("/account/calendar", methods=["GET", "POST"])
def account():
    """My calendar address: whether I have one, and a button to make a new one; a new one
    is shown on the answer to the post, once, and never again."""
    form = CreateFeedForm()
    if not form.validate_on_submit():
        return _page(400 if form.errors else 200, create_form=form)
    outcome = attempt(lambda: calendar_feeds.create(current_user.user))
    if not outcome.ok:
        form.form_errors.extend(outcome.refusal.text().split("\n"))
        return _page(outcome.refusal.status, create_form=form)
    address = url_for("feeds.feed", key=outcome.result, _external=True)
    return _page(address=address)


@bp.post("/account/calendar/revoke")
def revoke():
    """Stop my calendar address: a calendar app that fetches it finds nothing any more."""
    form = RevokeFeedForm()
    if not form.validate_on_submit():
        form.form_errors.extend(m for messages in form.errors.values() for m in messages)
        return _page(400, revoke_form=form)
    outcome = attempt(lambda: calendar_feeds.revoke(current_user.user, form.calendar_feed_id.data))
    if not outcome.ok:
        form.form_errors.extend(outcome.refusal.text().split("\n"))
        return _page(outcome.refusal.status, revoke_form=form)
    if outcome.result:
        flash("Your calendar address is stopped: calendars that use it get nothing.", "success")
    else:
        flash("That calendar address was already stopped.", "info")
    return redirect(url_for("feeds.account"))


def _plain(text: str, status: int) -> Response:
    response = Response(text + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/calendar.ics")
def feed():
    """The owner's visits, panel sessions and deadlines as iCalendar; an unknown, stopped
    or other district's address is "not found", the same answer for each. Without a key,
    a page that says where a person makes their address."""
    key = request.args.get("key", "")
    if not key:
        # Someone who opened the bare address in a browser: say where addresses are made.
        return render_template("feeds/about.html")
    owner = calendar_feeds.owner(key)
    if owner is None:
        return _plain("No calendar at this address.", 404)
    body = calendar_feeds.ics(
        owner, case_url=lambda case_id: url_for("cases.show", case_id=case_id, _external=True)
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Cache-Control"] = FEED_CACHE
    response.headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
    return response
