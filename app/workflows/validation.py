"""The public entry points: read a document, validate it, build its config."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from marshmallow import ValidationError

from app.workflows import paths
from app.workflows.build import build_config
from app.workflows.model import ProgramConfig
from app.workflows.schema import DocumentSchema
from app.workflows.semantics import build_index, check_document


class DocumentError(ValueError):
    """The text is not YAML or JSON, or not a mapping at the top."""


#: A configuration nests a few levels deep; a document nesting deeper is refused before the
#: parser's recursion could fail on it.
MAX_DEPTH = 32


class DocumentLoader(yaml.SafeLoader):
    """YAML with only true/false as booleans, nesting at most :data:`MAX_DEPTH` levels,
    and no key written twice in one mapping.

    YAML 1.1 reads ``on``, ``off``, ``yes`` and ``no`` as booleans, which would
    turn a notification's ``on:`` key into ``True``. A repeated key would silently
    keep only its last value (a track's ``steps`` naming ``panel_decision`` twice
    would lose one), so it is refused with both lines.
    """

    _depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise DocumentError(f"the document nests deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            _refuse_repeated_keys(node)
        return super().construct_mapping(node, deep=deep)


def _refuse_repeated_keys(node: yaml.MappingNode) -> None:
    first: dict[tuple[str, str], yaml.Mark] = {}
    for key, _ in node.value:
        # A merge (`<<: *defaults`) may be overridden by the keys written beside it.
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        seen = first.setdefault((key.tag, key.value), key.start_mark)
        if seen is not key.start_mark:
            mark = key.start_mark
            raise DocumentError(
                f"line {mark.line + 1}, column {mark.column + 1}: duplicate key "
                f"'{key.value}' (also on line {seen.line + 1})"
            )


DocumentLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
DocumentLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_document(source: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """Read a document from YAML or JSON text, or copy an already-parsed mapping."""
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    text = source.decode("utf-8") if isinstance(source, bytes) else source
    try:
        # DocumentLoader is a SafeLoader: no arbitrary objects.
        data = yaml.load(text, Loader=DocumentLoader)  # nosec B506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise DocumentError(f"{where}{getattr(exc, 'problem', None) or exc}") from exc
    if not isinstance(data, Mapping):
        raise DocumentError("the document must be a mapping of keys to values")
    return dict(data)


def dump_document(document: Mapping[str, Any]) -> str:
    """JSON text for storing a document version; keys keep their order."""
    return json.dumps(document, indent=2, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class ValidationResult:
    """``errors`` maps a path (``tracks.par.transitions[3].to``) to messages."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    config: ProgramConfig | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def messages(self) -> list[str]:
        """One ``path: message`` line per problem, as an editor would list them."""
        return [f"{path}: {message}" for path, items in self.errors.items() for message in items]


def validate(document: Mapping[str, Any]) -> ValidationResult:
    """Check structure and meaning together, and build the config if both pass."""
    if not isinstance(document, Mapping):
        return ValidationResult({"(document)": ["must be a mapping of keys to values"]})
    schema = DocumentSchema()
    errors: paths.Errors = {}
    loaded: dict[str, Any] = {}
    try:
        loaded = schema.load(dict(document))
    except ValidationError as exc:
        errors = paths.flatten(exc.messages, schema)
    for path, messages in check_document(document).items():
        for message in messages:
            paths.add(errors, path, message)
    _check_translations(document, errors)
    if errors:
        return ValidationResult(errors)
    return ValidationResult({}, build_config(loaded, build_index(document)))


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _keys(items: Any) -> set[str]:
    """The keys a part of the document defines, whether a mapping or a list of ``key:``s."""
    if isinstance(items, Mapping):
        return {str(key) for key in items}
    if isinstance(items, list):
        return {str(item["key"]) for item in items if isinstance(item, Mapping) and "key" in item}
    return set()


def _refuse_unknown(
    errors: paths.Errors, path: str, given: Any, known: set[str], what: str
) -> None:
    if not isinstance(given, Mapping):
        return
    for key in given:
        if str(key) not in known:
            paths.add(errors, paths.join(path, str(key)), f"the document has no {what} '{key}'")


def _check_translations(document: Mapping[str, Any], errors: paths.Errors) -> None:
    """Every translated label names something the document defines: a translation of a
    track, state, outcome, visit type, survey or statement that is not there is refused
    (a typo would otherwise leave the English label showing with no word said)."""
    translations = document.get("translations")
    if not isinstance(translations, Mapping):
        return
    tracks = document.get("tracks") if isinstance(document.get("tracks"), Mapping) else {}
    surveys = {
        item["key"]: item
        for item in document.get("surveys") or []
        if isinstance(item, Mapping) and "key" in item
    }
    for language, words in translations.items():
        if not isinstance(words, Mapping):
            continue
        base = paths.join("translations", str(language))
        _refuse_unknown(
            errors, paths.join(base, "tracks"), words.get("tracks"), set(tracks), "track"
        )
        for key, track in _mapping(words.get("tracks")).items():
            if key in tracks and isinstance(track, Mapping) and isinstance(tracks[key], Mapping):
                where = paths.join(paths.join(paths.join(base, "tracks"), key), "states")
                _refuse_unknown(
                    errors, where, track.get("states"), _keys(tracks[key].get("states")), "state"
                )
        for part, what in (("outcomes", "outcome"), ("visit_types", "visit type")):
            known = _keys(document.get(part))
            _refuse_unknown(errors, paths.join(base, part), words.get(part), known, what)
        _refuse_unknown(
            errors, paths.join(base, "surveys"), words.get("surveys"), set(surveys), "survey"
        )
        for key, survey in _mapping(words.get("surveys")).items():
            if key in surveys and isinstance(survey, Mapping):
                where = paths.join(paths.join(paths.join(base, "surveys"), key), "statements")
                known = _keys(surveys[key].get("statements"))
                _refuse_unknown(errors, where, survey.get("statements"), known, "statement")
