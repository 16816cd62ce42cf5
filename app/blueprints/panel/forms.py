"""Panel forms."""

from __future__ import annotations

from datetime import date

from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.blueprints.cases.forms import choices
from app.blueprints.forms import Form


class ScheduleForm(Form):
    meets_on = DateField(
        "Date", default=date.today, validators=[DataRequired("Give the session's date.")]
    )
    location = StringField(
        "Where",
        validators=[Optional(), Length(max=200, message="Say where in at most 200 characters.")],
    )


class AgendaForm(Form):
    case_id = SelectField("Case ready for the panel", coerce=int)


class AttendanceForm(Form):
    member_id = SelectField("Member", coerce=int)
    present = SelectField("Present?", choices=choices([("yes", "Present"), ("no", "Absent")]))


class BallotForm(Form):
    option = SelectField(
        "Your vote",
        validators=[DataRequired("Choose your vote, or Abstain.")],
        description="Sealed: nobody sees it until the vote is closed, and then only the tally.",
    )


class ConflictForm(Form):
    note = StringField("The conflict", validators=[DataRequired(), Length(max=500)])


class MemberForm(Form):
    user_id = SelectField("Person (panel-member role)", coerce=int)
    constituency = SelectField("Constituency")
    is_chair = BooleanField("Chair")
    is_alternate = BooleanField(
        "Alternate",
        description=(
            "Sits for the constituency without holding a seat: votes only when a member of "
            "the same constituency is absent or recused. An alternate cannot chair."
        ),
    )
    term_start = DateField("Term starts", validators=[Optional()])
    term_end = DateField("Term ends", validators=[Optional()])


class FinalDecisionForm(Form):
    decision = SelectField(
        "Decision",
        choices=choices(
            [("", "Choose"), ("approve", "Approve"), ("return", "Return to the panel")]
        ),
        validators=[DataRequired("Choose to approve or to return the decision.")],
    )
    outcome = SelectField("Outcome that closes the case", validators=[Optional()])
    note = TextAreaField("Note", validators=[Optional(), Length(max=2000)], render_kw={"rows": 3})
