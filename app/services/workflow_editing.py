"""The form editor's view of a document: its common parts as simple fields, and back.

Lists are edited as one line per item with ``|`` between the parts
(``needs_improvement | Needs Improvement | no``); every other part of the
document is kept exactly as it was.
"""

from __future__ import annotations

import copy
from typing import Any

from app.models.workflow import WorkflowVersion
from app.services import workflow_config as configs
from app.services.errors import ValidationFailed

_YES = {"yes", "y", "true", "1", "meets"}


def common_fields(document: dict[str, Any]) -> dict[str, Any]:
    panel = document.get("panel") or {}
    rule = panel.get("decision_rule") or {}
    return {
        "program_name": (document.get("program") or {}).get("name", ""),
        "rating_scale": "\n".join(
            f"{r['key']} | {r['label']} | {'yes' if r.get('meets_standard') else 'no'}"
            for r in document.get("rating_scale", [])
        ),
        "outcomes": "\n".join(
            f"{key} | {o['label']} | {o['group']}"
            for key, o in document.get("outcomes", {}).items()
        ),
        "visit_types": "\n".join(
            f"{key} | {t['label']} | {', '.join(t.get('fields', []))}"
            for key, t in document.get("visit_types", {}).items()
        ),
        "quorum": panel.get("quorum"),
        "decision_kind": rule.get("kind", "majority"),
        "at_least": rule.get("at_least"),
        "fraction": rule.get("fraction"),
        "fraction_of": rule.get("of", "seats"),
        "per_constituency_minimum": panel.get("per_constituency_minimum"),
        "tie_rule": panel.get("tie_rule", "defer"),
    }


def _rows(text: str, field: str, size: int, errors: dict[str, list[str]]) -> list[list[str]]:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != size or not all(parts[:2]):
            errors.setdefault(field, []).append(
                f"line {number}: write {size} parts separated by '|'"
            )
            continue
        rows.append(parts)
    return rows


def with_common_fields(
    document: dict[str, Any], data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A copy of ``document`` with the form's values; errors name the form field."""
    doc = copy.deepcopy(document)
    errors: dict[str, list[str]] = {}
    doc.setdefault("program", {})["name"] = data["program_name"]
    doc["rating_scale"] = [
        {"key": k, "label": label, "meets_standard": meets.lower() in _YES}
        for k, label, meets in _rows(data["rating_scale"], "rating_scale", 3, errors)
    ]
    doc["outcomes"] = {
        k: {"label": label, "group": group}
        for k, label, group in _rows(data["outcomes"], "outcomes", 3, errors)
    }
    kept = {k: t for k, t in (doc.get("visit_types") or {}).items() if isinstance(t, dict)}
    doc["visit_types"] = {
        # Keys the form does not show (e.g. required_to_count) stay as they were.
        k: {
            **kept.get(k, {}),
            "label": label,
            "fields": [f.strip() for f in fields.split(",") if f.strip()],
        }
        for k, label, fields in _rows(data["visit_types"], "visit_types", 3, errors)
    }
    if doc.get("panel") is not None:
        _apply_panel(doc["panel"], data)
    return doc, errors


def save_common_fields(document: dict[str, Any], data: dict[str, Any]) -> WorkflowVersion:
    """Save as the draft ``document`` with the form's values (flushes); a line the form
    cannot read, or a document that does not validate, is a 422 and nothing is saved."""
    changed, errors = with_common_fields(document, data)
    if errors:
        raise ValidationFailed(errors)
    return configs.save_draft(changed)


def _apply_panel(panel: dict[str, Any], data: dict[str, Any]) -> None:
    panel["quorum"] = data["quorum"]
    rule: dict[str, Any] = {"kind": data["decision_kind"]}
    if data["decision_kind"] == "supermajority":
        if data.get("at_least"):
            rule["at_least"] = data["at_least"]
        elif data.get("fraction"):
            rule["fraction"] = data["fraction"]
            rule["of"] = data.get("fraction_of") or "seats"
    panel["decision_rule"] = rule
    if data.get("per_constituency_minimum"):
        panel["per_constituency_minimum"] = data["per_constituency_minimum"]
    else:
        panel.pop("per_constituency_minimum", None)
    panel["tie_rule"] = data["tie_rule"]


#: Which form field shows a validation error, by the path it starts with.
FIELD_FOR_PATH = (
    ("program.name", "program_name"),
    ("rating_scale", "rating_scale"),
    ("outcomes", "outcomes"),
    ("visit_types", "visit_types"),
    ("panel.quorum", "quorum"),
    ("panel.decision_rule", "decision_kind"),
    ("panel.per_constituency_minimum", "per_constituency_minimum"),
    ("panel.tie_rule", "tie_rule"),
)


def field_for(path: str) -> str | None:
    return next((field for prefix, field in FIELD_FOR_PATH if path.startswith(prefix)), None)
