"""The program admin's workspace for the configuration: read, edit, diff, publish, try."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from flask import Response, abort, flash, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from app.blueprints.admin.routes import bp
from app.blueprints.forms import (
    DryRunForm,
    PublishForm,
    WorkflowCommonForm,
    WorkflowYamlForm,
    flash_invalid,
    perform,
    show_errors,
)
from app.blueprints.loading import found
from app.blueprints.operation import attempt
from app.services import diagrams, workflow_editing
from app.services import workflow_config as configs
from app.workflows import CaseFacts, describe_change, diff
from app.workflows.describe import describe_panel, describe_track
from app.workflows.validation import dump_document


def _current():
    """The draft when there is one, else the latest version; 404 for an unconfigured district."""
    row = configs.draft() or configs.latest_published()
    if row is None:
        abort(404)
    return row


@bp.get("/workflow")
def workflow():
    if configs.draft() is None and configs.latest_published() is None:
        return render_template("admin/workflow_first_run.html", presets=configs.preset_choices())
    row = _current()
    latest = configs.latest_published()
    config = configs.config_of(row)
    pending = diff(latest.document, row.document) if latest and not row.is_published else []
    return render_template(
        "admin/workflow.html",
        row=row,
        latest=latest,
        config=config,
        tracks=[(t, describe_track(t, config)) for t in config.tracks.values()],
        panel_words=describe_panel(config.panel) if config.panel else [],
        pending=[describe_change(c) for c in pending],
        versions=configs.published_versions(),
        diagrams=diagrams.available(),
        publish_form=PublishForm(),
    )


@bp.get("/workflow/tracks/<track>.svg")
def workflow_diagram(track: str):
    config = configs.config_of(_current())
    if track not in config.tracks or not diagrams.available():
        abort(404)
    return Response(diagrams.track_svg(config.tracks[track]), mimetype="image/svg+xml")


@bp.route("/workflow/edit", methods=["GET", "POST"])
def workflow_edit():
    row = _current()
    form = WorkflowCommonForm(data=workflow_editing.common_fields(row.document))
    if not form.validate_on_submit():
        return render_template("admin/workflow_edit.html", form=form), 400 if form.errors else 200
    outcome = attempt(lambda: workflow_editing.save_common_fields(row.document, form.data))
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors, workflow_editing.field_for)
        return render_template("admin/workflow_edit.html", form=form), outcome.refusal.status
    flash("Draft saved. Review the changes, then publish.", "success")
    return redirect(url_for("admin.workflow"))


@bp.route("/workflow/yaml", methods=["GET", "POST"])
def workflow_yaml():
    """The YAML editor: the draft or latest version, or (for a district's first program) a
    preset chosen on the first-run page as the starting text."""
    row = configs.draft() or configs.latest_published()
    form = WorkflowYamlForm()
    if request.method == "GET":
        preset = request.args.get("preset")
        if row is None and preset is None:
            return redirect(url_for("admin.workflow"))
        document = configs.preset_document(preset) if row is None else row.document
        form.text.data = _as_yaml(document)
    if not form.validate_on_submit():
        return _yaml_page(form, [], 400 if form.errors else 200)
    outcome = attempt(lambda: configs.save_draft(configs.parse(form.text.data or "")))
    if not outcome.ok:
        errors = [(path, m) for path, messages in outcome.refusal.errors.items() for m in messages]
        return _yaml_page(form, errors, outcome.refusal.status)
    flash("Draft saved. Review the changes, then publish.", "success")
    return redirect(url_for("admin.workflow"))


def _yaml_page(form, errors: list[tuple[str, str]], status: int):
    return render_template("admin/workflow_yaml.html", form=form, errors=errors), status


def _as_yaml(document: dict) -> str:
    import yaml

    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


@bp.post("/workflow/publish")
def workflow_publish():
    form = PublishForm()
    if form.validate_on_submit():
        perform(
            lambda: configs.publish(note=form.note.data or None),
            lambda version: (
                f"Published {version.label}. New cases follow it; open cases keep theirs."
            ),
        )
    else:
        flash_invalid(form)  # e.g. a note longer than 500 characters
    return redirect(url_for("admin.workflow"))


#: A version's number in the diff page's query (a larger one could be no row's: a 404).
_VERSION = re.compile(r"[0-9]{1,9}")


@bp.get("/workflow/diff")
def workflow_diff():
    """What changed from version ``?a=`` (none: from nothing) to ``?b=`` (a version, or the
    draft by default); a version that does not exist, or is not a number, is a 404."""
    a, b = request.args.get("a", ""), request.args.get("b", "draft")
    if (a and not _VERSION.fullmatch(a)) or (b != "draft" and not _VERSION.fullmatch(b)):
        abort(404)
    old = configs.version(int(a)).document if a else {}
    new_row = found(configs.draft() if b == "draft" else configs.version(int(b)))
    changes = [describe_change(c) for c in diff(old, new_row.document)]
    return render_template(
        "admin/workflow_diff.html", a=a, b=b, changes=changes, dump=dump_document
    )


@bp.get("/workflow/dry-run")
def workflow_dry_run():
    """Walk a pretend case of ``?track=`` through ``?actions=``; values the form cannot read
    are shown beside their fields (a 400) instead of walked."""
    config = configs.config_of(_current())
    form = DryRunForm(request.args)
    form.track.choices = [SelectChoice(k, t.name) for k, t in config.tracks.items()]
    steps = []
    asked = request.args.get("track") in config.tracks
    if asked and _readable(form):
        facts = CaseFacts(
            today=date.today(),
            visits_by_type={key: form.visits.data or 0 for key in config.visit_types},
            months_of_support=float(form.months.data or 0),
            has_recommendation=form.has_recommendation.data == "yes",
            # Left out of the query, these default to "yes": the walk is about the guards asked.
            ct_assigned=form.ct_assigned.data != "no",
            committee_consensus=form.consensus.data != "no",
            panel_decided=form.panel_decided.data != "no",
            principal_consulted=True,
            tagged_standards=frozenset(s.key for s in config.standards),
        )
        actions = [a for a in re.split(r"[\s,]+", form.actions.data or "") if a]
        steps = configs.dry_run(config, form.track.data, actions, facts)
    track = config.tracks.get(form.track.data or "") or next(iter(config.tracks.values()))
    return render_template(
        "admin/workflow_dry_run.html", form=form, steps=steps, track=track
    ), 400 if form.errors else 200


def _readable(form: DryRunForm) -> bool:
    """Whether the numbers read as numbers, else why not beside them ("NaN", "sNaN" and
    "Infinity" months too: ``float`` refuses sNaN). The yes/no choices left out of the query
    are "yes", so only the numbers are checked."""
    readable = [field.validate(form) for field in (form.visits, form.months)]
    months = form.months.data
    if all(readable) and isinstance(months, Decimal) and not months.is_finite():
        form.months.errors.append("Give the months as a number, e.g. 4.5.")
        return False
    return all(readable)
