"""The account page's two buttons. Making an address asks nothing (the person is the one
signed in); stopping one names the address the page showed, so a page left open after a
new address was made cannot stop the new one by mistake."""

from __future__ import annotations

from wtforms import IntegerField
from wtforms.validators import DataRequired, NumberRange
from wtforms.widgets import HiddenInput

from app.blueprints.forms import Form
from app.core.limits import MAX_ID


class CreateFeedForm(Form):
    """Make a new feed address (the old one, if any, stops working)."""


class RevokeFeedForm(Form):
    """Stop the feed address the page showed."""

    calendar_feed_id = IntegerField(
        "Calendar address",
        widget=HiddenInput(),
        validators=[
            DataRequired("Choose the calendar address to stop."),
            NumberRange(min=1, max=MAX_ID, message="Choose the calendar address to stop."),
        ],
    )
