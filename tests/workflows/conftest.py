"""Fixtures for the workflow configuration tests."""

from __future__ import annotations

from typing import Any

import pytest

from app.workflows import ProgramConfig, validate

from .helpers import base_document


@pytest.fixture
def document() -> dict[str, Any]:
    """A small valid document, fresh for each test to break on purpose."""
    return base_document()


@pytest.fixture
def config() -> ProgramConfig:
    result = validate(base_document())
    assert result.ok, result.messages()
    return result.config
