"""The shape shared by the guard and effect vocabularies.

A vocabulary entry is a name, a one-line doc, an example, a marshmallow schema
for its parameters and (optionally) a cross-reference check against the
document. Keeping them as data lets validation, the reference page and the
engine read the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from marshmallow import Schema, ValidationError

from app.workflows import paths

F = TypeVar("F")

Problems = list[tuple[str, str]]
"""(sub-path, message) pairs; the sub-path is relative to the parameters."""


@dataclass(frozen=True)
class DocumentIndex:
    """The keys a document defines, for checking references to them."""

    ratings: frozenset[str] = frozenset()
    standards: frozenset[str] = frozenset()
    visit_types: frozenset[str] = frozenset()
    deadlines: frozenset[str] = frozenset()
    outcomes: frozenset[str] = frozenset()
    report_groups: frozenset[str] = frozenset()
    surveys: frozenset[str] = frozenset()
    actors: frozenset[str] = frozenset()
    has_panel: bool = False


class NoParams(Schema):
    """For entries that take no parameters: any key given is reported."""


@dataclass(frozen=True)
class Entry(Generic[F]):
    """One word of a closed vocabulary."""

    name: str
    doc: str
    func: F
    params: type[Schema] = NoParams
    example: Mapping[str, Any] = field(default_factory=dict)
    check: Callable[[Mapping[str, Any], DocumentIndex], Problems] | None = None
    complete: Callable[[dict[str, Any], DocumentIndex], dict[str, Any]] | None = None

    def load_params(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Parameters with defaults applied; the document must already be valid."""
        return self.params().load(dict(raw))

    def example_use(self) -> Any:
        """How the entry is written in a document: bare name or ``{name: params}``."""
        return {self.name: dict(self.example)} if self.example else self.name


def check_params(
    entry: Entry[Any],
    raw: Mapping[str, Any],
    index: DocumentIndex,
    path: str,
    errors: paths.Errors,
) -> None:
    """Validate one use's parameters, structurally then against the document."""
    schema = entry.params()
    try:
        loaded = schema.load(dict(raw))
    except ValidationError as exc:
        for sub, messages in paths.flatten(exc.messages, schema, path).items():
            for message in messages:
                paths.add(errors, sub, message)
        return
    if entry.check is not None:
        for sub, message in entry.check(loaded, index):
            paths.add(errors, f"{path}.{sub}" if sub else path, message)


def unknown_keys(values: Any, known: frozenset[str], what: str, field_name: str) -> Problems:
    """Report each value that is not among ``known``, by its list position."""
    if isinstance(values, str):
        return [] if values in known else [(field_name, f"unknown {what} '{values}'")]
    return [
        (f"{field_name}[{i}]", f"unknown {what} '{value}'")
        for i, value in enumerate(values or ())
        if value not in known
    ]
