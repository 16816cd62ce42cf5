"""Forms of the people pages that only administration uses."""

from __future__ import annotations

from wtforms import StringField

from app.blueprints.forms import RolesForm


class PersonForm(RolesForm):
    """A person's roles and the school they work in, saved together."""

    # The service checks the length against the column and says what fits.
    school = StringField(
        "School",
        description="A principal is linked to the cases of this school and sees each as "
        "its track allows.",
    )
