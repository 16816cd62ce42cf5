"""Forms of the case pages. Choices come from the case's own configuration."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import UUID, DataRequired, Length, NumberRange, Optional

from app.blueprints.forms import Form
from app.services.responses import MAX_LENGTH as RESPONSE_MAX
from app.workflows import ProgramConfig


def choices(pairs, *, empty: str | None = None) -> list[SelectChoice]:
    """Options from ``(key, label)`` pairs; ``empty`` puts a placeholder first, for a choice
    that must not have a default (the field then needs ``DataRequired``)."""
    first = [SelectChoice("", empty)] if empty else []
    return first + [SelectChoice(key, label) for key, label in pairs]


class EnrollmentForm(Form):
    name = StringField("Your name", validators=[DataRequired("Enter your name."), Length(max=200)])
    email = EmailField("Your school e-mail", validators=[DataRequired("Enter your e-mail.")])
    school = StringField("School", validators=[DataRequired("Enter your school."), Length(max=200)])
    subject = StringField("Subject", validators=[Optional(), Length(max=120)])
    grade = StringField("Grade", validators=[Optional(), Length(max=40)])
    preferred_language = StringField("Preferred language", validators=[Optional(), Length(max=60)])
    track = SelectField("What you are asking for")
    latest_rating = SelectField("Your latest evaluation rating", validators=[Optional()])
    years_of_service = IntegerField("Years of service", validators=[Optional(), NumberRange(0, 60)])
    permanent_status = BooleanField("I have permanent (professional) status")
    letter = TextAreaField(
        "In your own words",
        validators=[DataRequired("Tell the program what support you want."), Length(max=5000)],
        description="What is going well, what you want help with, and anything the program "
        "should know. Only the program's coordinator and committee read this.",
        render_kw={"rows": 8},
    )

    def fill_choices(self, config: ProgramConfig) -> None:
        self.track.choices = choices((k, t.name) for k, t in config.tracks.items())
        self.latest_rating.choices = [
            SelectChoice("", "Not rated / prefer not to say"),
            *choices((r.key, r.label) for r in config.rating_scale),
        ]


class ReferralForm(EnrollmentForm):
    """The same request, made by a principal or the union for a teacher: it speaks of the
    teacher, not of the person filling it in."""

    name = StringField(
        "Teacher's name", validators=[DataRequired("Enter the teacher's name."), Length(max=200)]
    )
    email = EmailField("Teacher's e-mail", validators=[DataRequired("Enter the teacher's e-mail.")])
    school = StringField(
        "The teacher's school",
        validators=[DataRequired("Enter the teacher's school."), Length(max=200)],
    )
    track = SelectField("What the teacher is referred for")
    latest_rating = SelectField("The teacher's latest evaluation rating", validators=[Optional()])
    years_of_service = IntegerField(
        "The teacher's years of service", validators=[Optional(), NumberRange(0, 60)]
    )
    permanent_status = BooleanField("The teacher has permanent (professional) status")
    source = SelectField(
        "Referred by",
        choices=choices([("principal", "The principal"), ("union", "The union representative")]),
    )
    letter = TextAreaField(
        "Why you refer this teacher",
        validators=[DataRequired(), Length(max=5000)],
        render_kw={"rows": 6},
    )


class VisitForm(Form):
    visit_type = SelectField("Type")
    visited_on = DateField("Date", default=date.today, validators=[DataRequired()])
    duration_minutes = IntegerField("Minutes", validators=[Optional(), NumberRange(1, 600)])
    focus_standards = SelectMultipleField("Focus standards", validators=[Optional()])
    notes = TextAreaField(
        "Notes", validators=[Optional(), Length(max=10000)], render_kw={"rows": 4}
    )
    next_steps = TextAreaField(
        "Next steps", validators=[Optional(), Length(max=5000)], render_kw={"rows": 2}
    )
    principal_present = BooleanField("The principal took part")
    shared_with_teacher = BooleanField("Share the notes with the teacher", default=True)
    planned = BooleanField("This is a planned meeting, not yet held")
    #: One key per visit: the same form sent twice stores one visit. Drawn by the server so a
    #: page without script has one too; the page's script draws a fresh one on every load,
    #: since a page kept on the device for offline use would otherwise repeat its key.
    idempotency_key = HiddenField(
        default=lambda: str(uuid4()),
        validators=[Optional(), UUID("This form is damaged; reload the page and log it again.")],
    )

    def fill_choices(self, config: ProgramConfig) -> None:
        self.visit_type.choices = choices((k, v.label) for k, v in config.visit_types.items())
        self.focus_standards.choices = choices((s.key, s.label) for s in config.standards)


class GoalForm(Form):
    text = StringField(
        "New goal", id="goal_text", validators=[DataRequired("Write the goal."), Length(max=500)]
    )


class GoalProgressForm(Form):
    progress = IntegerField("Progress (%)", validators=[DataRequired(), NumberRange(0, 100)])


class EvidenceForm(Form):
    text = TextAreaField(
        "Evidence",
        id="evidence_text",
        validators=[Optional(), Length(max=10000)],
        render_kw={"rows": 3},
    )
    standards = SelectMultipleField("Standards", validators=[Optional()])
    file = FileField("File (PDF, image, Word or text)")

    def fill_choices(self, config: ProgramConfig) -> None:
        self.standards.choices = choices((s.key, s.label) for s in config.standards)


class ConfirmedForm(Form):
    """A consequential choice, confirmed: the first submit shows ``confirmation_page`` (what
    will happen, as others will see it) and changes nothing; only its ``confirm`` button
    acts, and ``edit`` goes back to the form as filled (see ``page.submit``)."""

    confirmation_page: str
    confirm = SubmitField("Confirm")
    edit = SubmitField("Go back and edit")


class RecommendationForm(ConfirmedForm):
    confirmation_page = "cases/confirm_recommendation.html"

    rating = SelectField("Recommended rating", validators=[DataRequired("Choose a rating.")])
    rationale = TextAreaField(
        "Rationale", validators=[DataRequired(), Length(min=20, max=10000)], render_kw={"rows": 6}
    )
    evidence_ids = SelectMultipleField("Evidence it rests on", coerce=int, validators=[Optional()])
    confirm = SubmitField("Confirm and send to the panel")


def _id_or_none(value) -> int | None:
    """A picked id; the empty placeholder is no choice (then ``DataRequired`` speaks)."""
    return None if value in (None, "") else int(value)


class ProposeForm(Form):
    ct_id = SelectField(
        "Consulting teacher",
        coerce=_id_or_none,
        validators=[DataRequired("Choose a consulting teacher.")],
    )
    reason = StringField(
        "Why this CT (optional)", id="propose_reason", validators=[Optional(), Length(max=500)]
    )


class ReviewForm(Form):
    decision = SelectField(
        "Your answer",
        choices=choices([("approve", "Approve"), ("object", "Object")], empty="Choose an answer"),
        validators=[DataRequired("Choose whether you approve or object.")],
    )
    comment = StringField("Comment", validators=[Optional(), Length(max=1000)])


class InformationRequestForm(Form):
    question = TextAreaField(
        "Question for the teacher", validators=[DataRequired(), Length(max=2000)]
    )


class ResponseForm(Form):
    """The teacher's written response to the approved decision (checked again by the service)."""

    text = TextAreaField(
        "Your response",
        id="response_text",
        validators=[
            DataRequired("Write your response."),
            Length(max=RESPONSE_MAX, message=f"Keep the response to {RESPONSE_MAX:,} characters."),
        ],
        description="Your response is kept with the decision; it does not change it.",
        render_kw={"rows": 6, "maxlength": RESPONSE_MAX},
    )


class ReopenForm(Form):
    to_state = SelectField(
        "Reopen into", validators=[DataRequired("Choose the state to reopen into.")]
    )
    reason = StringField("Reason", id="reopen_reason", validators=[DataRequired(), Length(max=500)])


class CaseFilterForm(Form):
    class Meta:
        csrf = False  # a GET form that only narrows a list

    track = SelectField("Track", validators=[Optional()])
    state = StringField("State", validators=[Optional(), Length(max=64)])
    ct_id = SelectField(
        "Consulting teacher", coerce=lambda v: int(v) if v else None, validators=[Optional()]
    )
    school = StringField("School", validators=[Optional(), Length(max=200)])
    year = IntegerField("Year enrolled", validators=[Optional(), NumberRange(2000, 2100)])
    under_appeal = BooleanField(
        "Under appeal", description="Only cases whose decision's appeal is not yet decided."
    )


class ActionForm(Form):
    """One workflow action; the engine checks the chosen outcome or rating, and refuses the
    action when one it needs is missing (the page offers them with no default)."""

    #: What a picker offers before anything is chosen, per payload field.
    PLACEHOLDERS = {"outcome": "Choose an outcome", "rating": "Choose a rating"}
    #: Each action draws its own pickers (not the field macro), so every message shows on
    #: top of the actions (``page.submit``).
    errors_on_top = True

    outcome = StringField("Outcome", validators=[Optional(), Length(max=64)])
    rating = StringField("Rating", validators=[Optional(), Length(max=64)])
    note = StringField("Note to the teacher", validators=[Optional(), Length(max=2000)])

    def payload(self) -> dict[str, str]:
        pairs = (
            ("outcome", self.outcome.data),
            ("rating", self.rating.data),
            ("note", self.note.data),
        )
        return {k: v for k, v in pairs if v}
