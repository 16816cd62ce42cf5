"""Case-page routes for the deadlines section: the coordinator reminds the CT and the
coordinator of one deadline now, through the same notice the weekly sweep sends."""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from app.blueprints.cases.page import fresh, submit
from app.blueprints.cases.routes import bp
from app.blueprints.forms import Form
from app.blueprints.loading import case_or_404, found
from app.services import deadline_reminders


class DeadlineRemindForm(Form):
    """Only the CSRF token: the deadline is named by the address. A refusal (a reminder
    sent a moment ago, a closed case) is shown beside that deadline's button."""

    errors_on_top = True

    #: The deadline this form was posted for, so its errors show beside that deadline.
    case_deadline_id: int | None = None


def page_forms(posted: dict[str, Any]) -> dict[str, Any]:
    """The form the deadlines section draws: the one posted back with errors, else fresh."""
    return {"deadline_remind_form": posted.get("deadline_remind_form") or fresh(DeadlineRemindForm)}


@bp.post("/<int:case_id>/deadlines/<int:case_deadline_id>/remind")
def deadline_remind(case_id: int, case_deadline_id: int):
    """A coordinator or program admin reminds the assigned CT and the coordinator of one
    deadline of an open case now; audited, and refused within a day of the last one."""
    case = case_or_404(case_id)
    deadline = found(deadline_reminders.deadline_of(case, case_deadline_id))
    form = DeadlineRemindForm()
    form.case_deadline_id = deadline.id
    return submit(
        case,
        form,
        "deadline_remind_form",
        lambda: deadline_reminders.remind_now(case, deadline, current_user.user),
        lambda reminded: deadline_reminders.sent_words(case, reminded),
    )
