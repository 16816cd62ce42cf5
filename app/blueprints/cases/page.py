"""The case page: what this reader may see of the case, and the forms they may use."""

from __future__ import annotations

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
    ReviewForm,
    VisitForm,
    choices,
)
from app.models.case import Case
from app.services import assignments, case_lists, cases, roster, support
from app.services import workflow_config as configs
from app.services.case_permissions import principal_evaluates, sections
from app.services.panel_votes import option_label
from app.workflows import ProgramConfig


def render_case(case: Case, status: int = 200, **forms):
    user = current_user.user
    config = configs.config_of(case.workflow_version)
    track = config.tracks[case.track_key]
    seen = sections(case, user, track.shared_with_principal)
    relations = cases.relations(case, user)
    is_ct = "assigned_ct" in relations
    visit_form = forms.get("visit_form") or VisitForm()
    visit_form.fill_choices(config)
    evidence_form = forms.get("evidence_form") or EvidenceForm()
    evidence_form.fill_choices(config)
    evidence = support.evidence(case) if seen.evidence else []
    rec_form = forms.get("recommendation_form") or RecommendationForm()
    rec_form.rating.choices = choices(
        ((o, option_label(config, o)) for o in config.recommendation_options(case.track_key)),
        empty="Choose a rating",
    )
    rec_form.evidence_ids.choices = choices(
        (e.id, (e.text or e.file_name or "")[:60]) for e in evidence
    )
    propose_form = forms.get("propose_form") or ProposeForm()
    suggestions = roster.suggestions(case) if "coordinator" in user.roles else []
    propose_form.ct_id.choices = choices(
        (s.ct_id, s.name) for s in suggestions if s.eligible and s.ct_id != case.ct_id
    )
    history = assignments.history(case) if seen.assignment else []
    reopen_form = forms.get("reopen_form") or ReopenForm()
    reopen_form.to_state.choices = choices(
        ((k, s.label) for k, s in track.states.items() if not s.terminal), empty="Choose a state"
    )
    return render_template(
        "cases/show.html",
        case=case,
        config=config,
        track=track,
        seen=seen,
        is_ct=is_ct,
        is_principal="case_principal" in relations and principal_evaluates(track),
        **_next_steps(case, config, user),
        rating_label=lambda key: option_label(config, key),
        deadlines=cases.deadlines(case),
        next_deadline=case_lists.next_deadline(case),
        visits=support.visits(case, for_teacher=not seen.evidence)
        if (seen.visit_summary or seen.visit_notes)
        else [],
        goals=support.goals(case) if seen.goals else [],
        evidence=evidence,
        recommendation=support.recommendation(case) if seen.recommendation else None,
        history=history,
        pending=next((a for a in history if a.status == "proposed"), None),
        suggestions=suggestions,
        action_form=forms.get("action_form") or ActionForm(),
        visit_form=visit_form,
        goal_form=forms.get("goal_form") or GoalForm(),
        evidence_form=evidence_form,
        recommendation_form=rec_form,
        propose_form=propose_form,
        review_form=forms.get("review_form") or ReviewForm(),
        info_form=forms.get("info_form") or InformationRequestForm(),
        reopen_form=reopen_form,
    ), status


def _next_steps(case: Case, config: ProgramConfig, user) -> dict:
    """The actions this reader may take, each with its form, or with where the step is taken
    instead: the recommendation form below (its one rating picker), or the panel's pages.
    A picker offers labels, never raw keys, and starts on its placeholder."""
    track = config.tracks[case.track_key]
    actions = cases.options(case, user)
    step = cases.recommendation_step(track, case.state)
    return {
        "actions": actions,
        "recommendation_step": step.key if step else None,
        "elsewhere": {
            o.key: reason
            for o in actions
            if (reason := cases.reserved_step(track, case.state, o.key)) is not None
        },
        "picker_labels": {
            "outcome": {k: o.label for k, o in config.outcomes.items()},
            "rating": {r.key: r.label for r in config.rating_scale},
        },
        "placeholders": ActionForm.PLACEHOLDERS,
    }


def submit(case: Case, form, form_key: str, act, done: str):
    """The one shape of every case form: validate, run the service, commit once, go back to
    the case; or roll back and show the form again with each error beside its field.

    A ``ConfirmedForm`` runs the service once as a dry run (rolled back) and shows its
    confirmation page; only the confirmation's own button keeps the change.
    """
    from flask import flash, redirect, url_for

    from app.blueprints.forms import show_errors
    from app.services import uow
    from app.services.case_access import visible_case
    from app.services.errors import ServiceError

    if not form.validate_on_submit():
        return render_case(case, 400, **{form_key: form})
    confirming = isinstance(form, ConfirmedForm) and not form.confirm.data
    if confirming and form.edit.data:
        return render_case(case, **{form_key: form})
    try:
        act()
        if not confirming:
            uow.commit()
    except ServiceError as exc:
        uow.rollback()
        show_errors(form, exc.errors)
        return render_case(visible_case(case.id, current_user.user), exc.status, **{form_key: form})
    if confirming:
        uow.rollback()  # the service accepts it; nothing is kept until it is confirmed
        return _confirmation(visible_case(case.id, current_user.user), form)
    flash(done, "success")
    return redirect(url_for("cases.show", case_id=case.id))


def _confirmation(case: Case, form: ConfirmedForm):
    """What confirming will do, as those it goes to will see it: for the recommendation, the
    case packet the panel reads (the recommendation, the evidence, the visits without notes)."""
    config = configs.config_of(case.workflow_version)
    track = config.tracks[case.track_key]
    step = cases.recommendation_step(track, case.state)
    evidence = support.evidence(case)
    linked = set(form.evidence_ids.data or ())
    return render_template(
        form.confirmation_page,
        case=case,
        config=config,
        track=track,
        form=form,
        rating_label=option_label(config, form.rating.data),
        to_state=track.states[step.to].label if step else None,
        visits=[v for v in support.visits(case) if not v.planned],
        evidence=evidence,
        linked=[e for e in evidence if e.id in linked],
    )
