"""Case-page routes for the status reports section: the CT writes and signs a report, the
people the track names acknowledge it."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.blueprints.cases.forms import choices
from app.blueprints.cases.page import fresh, submit
from app.blueprints.cases.routes import bp
from app.blueprints.forms import Form
from app.blueprints.loading import case_or_404
from app.services import status_reports
from app.services import workflow_config as configs
from app.workflows import ProgramConfig


class StatusReportForm(Form):
    """The fields every report has; ``for_config`` adds a rating and a note per standard."""

    concerns = TextAreaField(
        "Concerns",
        validators=[Optional(), Length(max=status_reports.MAX_TEXT)],
        description="What worries you about the teacher's practice now, if anything.",
        render_kw={"rows": 4},
    )
    current_view = TextAreaField(
        "Your current view",
        validators=[
            DataRequired("Say where the teacher stands now."),
            Length(max=status_reports.MAX_TEXT),
        ],
        description="Where the teacher stands now, as you would tell the panel.",
        render_kw={"rows": 5},
    )
    signed_name = StringField(
        "Sign with your name",
        validators=[DataRequired("Type your name to sign the report."), Length(max=200)],
        description="Type your name as the district has it; it signs the report.",
    )

    #: (standard key, rating field, note field) for each standard, in the program's order.
    standard_fields: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def for_config(cls, config: ProgramConfig, **kwargs: Any) -> StatusReportForm:
        """A form for ``config``'s standards: each rated on its scale (the select starts
        empty, a rating is required) with an optional note; labels, never keys."""
        scale = [(level.key, level.label) for level in config.rating_scale]
        attributes: dict[str, Any] = {"standard_fields": ()}
        rows = []
        for standard in config.standards:
            rating, note = f"rating_{standard.key}", f"note_{standard.key}"
            attributes[rating] = SelectField(
                standard.label,
                choices=choices(scale, empty="Choose a rating"),
                validators=[DataRequired(f"Choose a rating for {standard.label}.")],
            )
            attributes[note] = TextAreaField(
                f"Note on {standard.label} (optional)",
                validators=[Optional(), Length(max=status_reports.MAX_NOTE)],
                render_kw={"rows": 2},
            )
            rows.append((standard.key, rating, note))
        attributes["standard_fields"] = tuple(rows)
        return type("StatusReportForm", (cls,), attributes)(**kwargs)

    def data_for_service(self) -> status_reports.ReportInput:
        return status_reports.ReportInput(
            ratings={key: self[rating].data or None for key, rating, _ in self.standard_fields},
            notes={key: self[note].data for key, _, note in self.standard_fields},
            concerns=self.concerns.data,
            current_view=self.current_view.data,
            signed_name=self.signed_name.data,
        )


class AcknowledgeReportForm(Form):
    """One report's acknowledgment (its own id: the decision's form has a typed name too)."""

    typed_name = StringField(
        "Type your name to acknowledge",
        id="report_typed_name",
        validators=[DataRequired("Type your name to acknowledge the report."), Length(max=200)],
    )

    #: The report this form was posted for, so its errors show beside that report.
    report_id: int | None = None


def page_forms(posted: dict[str, Any]) -> dict[str, Any]:
    """The forms the status reports section draws: those posted back with errors, else
    fresh ones (the report form is built for the case's configuration in the template, by
    ``status_report_form_for``, since its standards are the program's own)."""
    return {
        "status_report_form": posted.get("status_report_form"),
        "status_report_form_for": lambda config: StatusReportForm.for_config(config, formdata=None),
        "status_report_ack_form": posted.get("status_report_ack_form")
        or fresh(AcknowledgeReportForm),
    }


@bp.post("/<int:case_id>/status-reports/<int:status_report_id>")
def status_report_write(case_id: int, status_report_id: int):
    """Only the assigned CT of an open case; a missing rating or a signature that is not
    their name is refused beside its field."""
    case = case_or_404(case_id)
    form = StatusReportForm.for_config(configs.config_of(case.workflow_version))
    return submit(
        case,
        form,
        "status_report_form",
        lambda: status_reports.write(
            case, current_user.user, status_report_id, form.data_for_service()
        ),
        lambda report: f"{report.label} is signed and placed for the panel to read.",
    )


@bp.post("/<int:case_id>/status-reports/<int:status_report_id>/acknowledge")
def status_report_acknowledge(case_id: int, status_report_id: int):
    """The teacher (and whoever the track names) acknowledges receipt of a written report."""
    case = case_or_404(case_id)
    form = AcknowledgeReportForm()
    form.report_id = status_report_id
    return submit(
        case,
        form,
        "status_report_ack_form",
        lambda: status_reports.acknowledge(
            case, current_user.user, status_report_id, form.typed_name.data
        ),
        "Your acknowledgment is recorded. It says you received the report, not that you agree.",
    )
