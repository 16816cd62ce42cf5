"""The configuration reference on disk is exactly what the code generates."""

from __future__ import annotations

from pathlib import Path

from app.workflows import validate
from app.workflows.effects import EFFECTS
from app.workflows.guards import GUARDS
from app.workflows.reference import render_reference
from app.workflows.reference_examples import EXAMPLES
from app.workflows.schema import DocumentSchema

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_reference_on_disk_is_in_sync():
    assert DOC.read_text(encoding="utf-8") == render_reference(), (
        "regenerate: python -m app.workflows.reference > docs/configuration.md"
    )


def test_reference_covers_every_key_guard_and_effect():
    text = render_reference()
    for name in DocumentSchema().fields:
        assert f"## `{name}`" in text
    for name in [*GUARDS, *EFFECTS]:
        assert f"### `{name}`" in text


def test_reference_examples_form_a_valid_document():
    assert set(EXAMPLES) == set(DocumentSchema().fields)
    assert validate(EXAMPLES).errors == {}


def test_every_guard_and_effect_example_validates(document):
    track = document["tracks"]["par"]
    track["transitions"][0]["guards"] = [g.example_use() for g in GUARDS.values()]
    document["report_groups"]["active"] = {"label": "Active"}
    document["surveys"] = EXAMPLES["surveys"]
    document["outcomes"]["retired"] = {"label": "Retired", "group": "other"}
    closing = track["transitions"][3]
    closing["effects"] = [e.example_use() for e in EFFECTS.values()]
    assert validate(document).errors == {}
