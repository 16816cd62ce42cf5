"""Forms that only administration uses: people, and the imports page."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.blueprints.forms import Form, RolesForm
from app.core.limits import MAX_ID
from app.services import import_uploads


class PersonForm(RolesForm):
    """A person's roles and the school they work in, saved together."""

    # The service checks the length against the column and says what fits.
    school = StringField(
        "School",
        description="A principal is linked to the cases of this school and sees each as "
        "its track allows.",
    )


class ImportForm(Form):
    """An import file and what it holds; a survey's answers also name their round."""

    kind = RadioField(
        "What the file holds",
        choices=[
            SelectChoice(import_uploads.CASES, "Cases from past years (the program's history)"),
            SelectChoice(import_uploads.SURVEY_RESPONSES, "Survey answers collected before Parley"),
        ],
        validators=[InputRequired("Choose what the file holds.")],
    )
    file = FileField(
        "CSV file",
        description='Saved as "CSV UTF-8" (in Excel: File, Save As, CSV UTF-8). Nothing is '
        "written until you have seen the preview and chosen to import it.",
        render_kw={"accept": ".csv,text/csv"},
    )
    survey = SelectField("Survey", choices=[], validate_choice=False)
    year = StringField(
        "School year",
        description="The year the answers were collected, e.g. 2008-2009.",
        validators=[Optional(), Length(max=import_uploads.YEAR_MAX)],
    )
    sent = IntegerField(
        "Questionnaires sent",
        description="How many people were asked: the response rate is counted against it.",
        validators=[Optional(), NumberRange(min=0, max=MAX_ID)],
    )

    def validate(self, extra_validators=None) -> bool:
        """The survey fields are required for survey answers only; a file always."""
        ok = super().validate(extra_validators)
        if not self.file.data:
            self.file.errors = [*self.file.errors, "Choose the CSV file to check."]
            ok = False
        if self.kind.data == import_uploads.SURVEY_RESPONSES:
            needed = {
                self.survey: "Choose the survey the answers belong to.",
                self.year: "Enter the school year, e.g. 2008-2009.",
                self.sent: "Enter how many questionnaires were sent.",
            }
            for field, message in needed.items():
                if field.data in (None, "") and not field.errors:
                    field.errors = [*field.errors, message]
                    ok = False
        return ok

    def target(self) -> import_uploads.SurveyTarget | None:
        if self.kind.data != import_uploads.SURVEY_RESPONSES:
            return None
        return import_uploads.SurveyTarget(self.survey.data, self.year.data.strip(), self.sent.data)


class ApplyImportForm(Form):
    """Applies a preview: the token names the kept file, never the file itself."""

    upload = HiddenField(validators=[InputRequired("Upload the file again to preview it.")])
