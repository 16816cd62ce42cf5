"""The case page: what this reader may see of the case, and the forms they may use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template
from flask_login import current_user

from app.blueprints.cases.forms import (
    ActionForm,
    ConfirmedForm,
    EvidenceForm,
    GoalForm,
    InformationRequestForm,
    ProposeForm,
    RecommendationForm,
    ReopenForm,
    ResponseForm,
    ReviewForm,
    VisitForm,
    choices,
)
from app.blueprints.forms import fresh
from app.services import case_page
from app.services.panel.ballots import option_label


def _form(posted: dict, name: str, form_class, fill: Callable[[Any], None] | None = None):
    """The form ``name`` posted back with its errors (given its choices now), or a fresh one."""
    form = posted.get(name)
    if form is None:
        return fresh(form_class, fill)
    if fill is not None:
        fill(form)
    return form


def focus_first_error(form) -> None:
    """Ask the browser to focus the first field the refusal names (``autofocus``: the page
    runs no inline script). Drawn per request, so the form class keeps its own options."""
    for f in form:
        if f.errors and f.type not in ("HiddenField", "CSRFTokenField"):
            f.render_kw = {**(f.render_kw or {}), "autofocus": True}
            return


def render_case(case, status: int = 200, **forms):
    """The case page for the signed-in reader; ``forms`` are forms posted back with errors
    (the first field with an error gets the focus; its section is drawn open)."""
    for posted in forms.values():
        focus_first_error(posted)
    page = case_page.case_page(case, current_user.user)

    def fill_recommendation(form) -> None:
        form.rating.choices = choices(page.recommendation_options, empty="Choose a rating")
        form.evidence_ids.choices = choices(
            (e.id, (e.text or e.file_name or "")[:60]) for e in page.evidence
        )

    def fill_proposal(form) -> None:
        # Suggestions are listed best first, but the pick is the coordinator's: no default.
        form.ct_id.choices = choices(
            ((s.ct_id, s.name) for s in page.suggestions if s.eligible and s.ct_id != case.ct_id),
            empty="Choose a consulting teacher",
        )

    def fill_reopen(form) -> None:
        form.to_state.choices = choices(page.reopen_states, empty="Choose a state")

    def fill_config(form) -> None:
        form.fill_choices(page.config)

    return render_template(
        "cases/show.html",
        **page.context(),
        placeholders=ActionForm.PLACEHOLDERS,
        # The forms sent back with errors, by name: the page asks this, not a fresh form,
        # whether a section it does not show was refused (a fresh form has no errors).
        refused=frozenset(forms),
        action_form=_form(forms, "action_form", ActionForm),
        visit_form=_form(forms, "visit_form", VisitForm, fill_config),
        goal_form=_form(forms, "goal_form", GoalForm),
        evidence_form=_form(forms, "evidence_form", EvidenceForm, fill_config),
        recommendation_form=_form(
            forms, "recommendation_form", RecommendationForm, fill_recommendation
        ),
        propose_form=_form(forms, "propose_form", ProposeForm, fill_proposal),
        review_form=_form(forms, "review_form", ReviewForm),
        info_form=_form(forms, "info_form", InformationRequestForm),
        reopen_form=_form(forms, "reopen_form", ReopenForm, fill_reopen),
        response_form=_form(forms, "response_form", ResponseForm),
        **_section_forms(forms),
    ), status


def _section_forms(posted: dict) -> dict:
    """The forms of the sections kept in their own modules (acknowledgments, appeals,
    status reports, deadlines), each module drawing its own."""
    from app.blueprints.cases import appeals, deadlines, signatures, status_reports

    return {
        **signatures.page_forms(posted),
        **appeals.page_forms(posted),
        **status_reports.page_forms(posted),
        **deadlines.page_forms(posted),
    }


def submit(case, form, form_key: str, act, done):
    """The one shape of every case form: validate, run the service (the request's unit of
    work commits it), go back to the case; or roll back and show the form again with each
    error beside its field (on top of it for a form whose fields are not drawn one by one,
    ``errors_on_top``). ``done`` is the success message, or a function of the result.

    A ``ConfirmedForm`` runs the service once as a dry run (rolled back) and shows its
    confirmation page; only the confirmation's own button keeps the change.
    """
    from flask import flash, redirect, url_for

    from app.blueprints.operation import attempt
    from app.services.case_access import visible_case

    if not form.validate_on_submit():
        if getattr(form, "errors_on_top", False):
            _on_top(form, {f.name: f.errors for f in form if f.errors})
        return render_case(case, 400, **{form_key: form})
    confirming = isinstance(form, ConfirmedForm) and not form.confirm.data
    if confirming and form.edit.data:
        return render_case(case, **{form_key: form})
    # Before confirming, the service is asked whether it would pass; nothing is kept.
    outcome = attempt(act, dry_run=confirming)
    if not outcome.ok:
        _show(form, outcome.refusal.errors)
        return render_case(
            visible_case(case.id, current_user.user), outcome.refusal.status, **{form_key: form}
        )
    if confirming:
        return _confirmation(visible_case(case.id, current_user.user), form)
    flash(done(outcome.result) if callable(done) else done, "success")
    return redirect(url_for("cases.show", case_id=case.id))


def _show(form, errors: dict[str, list[str]]) -> None:
    from app.blueprints.forms import show_errors

    if getattr(form, "errors_on_top", False):
        _on_top(form, errors)
    else:
        show_errors(form, errors)


def _on_top(form, errors: dict[str, list[str]]) -> None:
    form.form_errors.extend(m for messages in errors.values() for m in messages)


def _confirmation(case, form: ConfirmedForm):
    """What confirming will do, as those it goes to will see it: for the recommendation, the
    case packet the panel reads (the recommendation, the evidence, the visits without notes)."""
    packet = case_page.recommendation_packet(case)
    linked = set(form.evidence_ids.data or ())
    return render_template(
        form.confirmation_page,
        case=case,
        config=packet.config,
        track=packet.track,
        form=form,
        rating_label=option_label(packet.config, form.rating.data),
        to_state=packet.to_state,
        visits=packet.visits,
        evidence=packet.evidence,
        linked=[e for e in packet.evidence if e.id in linked],
    )
