"""Roster forms: lists are typed comma-separated."""

from __future__ import annotations

from wtforms import DateField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.blueprints.forms import FiniteDecimalField, Form


def split(text: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


class ProfileForm(Form):
    term_start = DateField("Term starts", validators=[Optional()])
    term_end = DateField("Term ends", validators=[Optional()])
    caseload_limit = IntegerField(
        "Caseload limit",
        default=12,
        validators=[DataRequired(), NumberRange(1, 40)],
        description="Evaluative cases count as their track's weight.",
    )
    home_school = StringField(
        "Home school",
        validators=[Optional(), Length(max=200)],
        description="Teachers from this school are not suggested.",
    )
    schools = StringField("Schools served", description="Comma separated.")
    subjects = StringField("Subjects", description="Comma separated.")
    grades = StringField("Grades", description="Comma separated.")
    languages = StringField("Languages", description="Comma separated.")


class TrainingForm(Form):
    workshop = StringField("Workshop", validators=[DataRequired(), Length(max=200)])
    attended_on = DateField("Date", validators=[DataRequired()])
    hours = FiniteDecimalField(
        "Hours", places=1, validators=[DataRequired(), NumberRange(0.5, 200)]
    )
