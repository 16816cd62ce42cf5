"""What changed between two versions of a configuration document.

A program admin publishing a new version sees this list before confirming, so
paths follow the validation format and lists of keyed items (rating levels,
transitions, deadlines...) are matched by key: inserting one level reads as
one addition, not as every later level changing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.workflows.paths import join


@dataclass(frozen=True)
class Change:
    """``kind`` is added, removed or changed; ``old``/``new`` are the values."""

    path: str
    kind: str
    old: Any = None
    new: Any = None


def diff(old: Any, new: Any) -> list[Change]:
    """Every difference between two documents, in document order."""
    changes: list[Change] = []
    _diff(old, new, "", changes)
    return changes


def _diff(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        _diff_mappings(old, new, path, out)
    elif isinstance(old, list) and isinstance(new, list):
        if _keys(old) is not None and _keys(new) is not None:
            _diff_keyed(old, new, path, out)
        elif all(isinstance(i, Mapping) for i in old + new):
            _diff_positions(old, new, path, out)
        elif old != new:
            out.append(Change(path or "(document)", "changed", old, new))
    elif type(old) is not type(new) or old != new:
        out.append(Change(path or "(document)", "changed", old, new))


def _diff_mappings(old: Mapping, new: Mapping, path: str, out: list[Change]) -> None:
    for key, value in old.items():
        sub = join(path, str(key))
        if key in new:
            _diff(value, new[key], sub, out)
        else:
            out.append(Change(sub, "removed", old=value))
    for key, value in new.items():
        if key not in old:
            out.append(Change(join(path, str(key)), "added", new=value))


def _keys(items: list[Any]) -> list[str] | None:
    """The items' ``key`` values, if every item has a distinct text key."""
    keys = [i.get("key") if isinstance(i, Mapping) else None for i in items]
    if not items or not all(isinstance(k, str) for k in keys) or len(set(keys)) != len(keys):
        return None
    return keys


def _diff_keyed(old: list[Any], new: list[Any], path: str, out: list[Change]) -> None:
    old_by_key = {item["key"]: item for item in old}
    new_by_key = {item["key"]: item for item in new}
    for key, item in old_by_key.items():
        sub = f"{path}[{key}]"
        if key in new_by_key:
            _diff(item, new_by_key[key], sub, out)
        else:
            out.append(Change(sub, "removed", old=item))
    for key, item in new_by_key.items():
        if key not in old_by_key:
            out.append(Change(f"{path}[{key}]", "added", new=item))
    kept_old = [k for k in old_by_key if k in new_by_key]
    kept_new = [k for k in new_by_key if k in old_by_key]
    if kept_old != kept_new:
        out.append(Change(f"{path} (order)", "changed", kept_old, kept_new))


def _diff_positions(old: list[Any], new: list[Any], path: str, out: list[Change]) -> None:
    for index, (before, after) in enumerate(zip(old, new, strict=False)):
        _diff(before, after, join(path, index), out)
    for index in range(len(new), len(old)):
        out.append(Change(join(path, index), "removed", old=old[index]))
    for index in range(len(old), len(new)):
        out.append(Change(join(path, index), "added", new=new[index]))


def _show(value: Any) -> str:
    if isinstance(value, Mapping) and isinstance(value.get("label"), str):
        return f'"{value["label"]}"'
    if isinstance(value, str):
        return f'"{value}"'
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_change(change: Change) -> str:
    """One sentence for a program admin, e.g. ``Changed panel.quorum from 7 to 6``."""
    if change.kind == "added":
        return f"Added {change.path}: {_show(change.new)}"
    if change.kind == "removed":
        return f"Removed {change.path} (was {_show(change.old)})"
    return f"Changed {change.path} from {_show(change.old)} to {_show(change.new)}"
