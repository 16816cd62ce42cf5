"""Presets: configuration documents for known programs, shipped as starting points.

A preset is only data; a district copies one and edits it. The engine treats
every document alike, whatever preset it began as.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from app.workflows.validation import load_document


def preset_keys() -> list[str]:
    """Keys of the shipped presets, sorted."""
    folder = resources.files(__name__)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def preset_text(key: str) -> str:
    """The preset's YAML, comments included, for an editor to start from."""
    if key not in preset_keys():
        raise KeyError(f"unknown preset '{key}'")
    return resources.files(__name__).joinpath(f"{key}.yaml").read_text(encoding="utf-8")


def load_preset(key: str) -> dict[str, Any]:
    """The preset as a document (a fresh dict each call, safe to edit)."""
    return load_document(preset_text(key))
