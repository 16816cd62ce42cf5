"""Forms that only administration uses: people, the imports page and its role mapping."""

from __future__ import annotations

from flask_wtf.file import FileField, MultipleFileField
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.blueprints.forms import Form, RolesForm
from app.core.limits import MAX_ID
from app.security.roles import role_info
from app.services import import_uploads, oneroster_roles


class PersonForm(RolesForm):
    """A person's roles and the school they work in, saved together."""

    # The service checks the length against the column and says what fits.
    school = StringField(
        "School",
        description="A principal is linked to the cases of this school and sees each as "
        "its track allows.",
    )


class FilesField(MultipleFileField, FileField):
    """One or more files in one field (a file field, so the base form hands it the files)."""


class ImportForm(Form):
    """An import file and what it holds; a survey's answers also name their round."""

    kind = RadioField(
        "What the file holds",
        choices=[
            SelectChoice(import_uploads.CASES, "Cases from past years (the program's history)"),
            SelectChoice(import_uploads.SURVEY_RESPONSES, "Survey answers collected before Parley"),
            SelectChoice(
                import_uploads.ONEROSTER,
                "Schools and staff from the district's system (a OneRoster 1.2 bundle)",
            ),
        ],
        validators=[InputRequired("Choose what the file holds.")],
    )
    file = FilesField(
        "File",
        description='A CSV file saved as "CSV UTF-8" (in Excel: File, Save As, CSV UTF-8); for '
        "a OneRoster bundle, its zip or its CSV files chosen together. Nothing is written "
        "until you have seen the preview and chosen to import it.",
        render_kw={"accept": ".csv,text/csv,.zip,application/zip"},
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

    def uploads(self) -> list[tuple]:
        """Each chosen file's stream and name."""
        return [(f.stream, f.filename or "import.csv") for f in self.file.data or []]

    def target(self) -> import_uploads.SurveyTarget | None:
        if self.kind.data != import_uploads.SURVEY_RESPONSES:
            return None
        return import_uploads.SurveyTarget(self.survey.data, self.year.data.strip(), self.sent.data)


class ApplyImportForm(Form):
    """Applies a preview: the token names the kept file, never the file itself."""

    upload = HiddenField(validators=[InputRequired("Upload the file again to preview it.")])


#: The choice that leaves a OneRoster role granting nothing (the default).
_NOTHING = SelectChoice("", "Nothing (grants no role)")


def _mapping_choices() -> list[SelectChoice]:
    keys = sorted(oneroster_roles.MAPPABLE, key=lambda k: role_info(k).label)
    return [_NOTHING, *(SelectChoice(k, role_info(k).label) for k in keys)]


class RoleMappingForm(Form):
    """The Parley role each OneRoster staff role grants; one select per OneRoster role."""

    mapping_form = HiddenField(default="1")

    def mapping(self) -> dict[str, str | None]:
        return {source: self[source].data or None for source in oneroster_roles.SOURCE_LABELS}


for _source, _label in oneroster_roles.SOURCE_LABELS.items():
    setattr(
        RoleMappingForm,
        _source,
        SelectField(
            f"{_label} ({_source})",
            choices=_mapping_choices(),
            validators=[Optional()],
        ),
    )
