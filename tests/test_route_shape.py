"""Routes hold no domain logic and no transaction: a static reading of every route module.

A route module (one that declares a view with ``@bp.<method>``/``@bp.route``) imports no
model to query, touches no ``db.session``, never commits or rolls back, and catches no
``ServiceError``: the unit of work (``app.blueprints.operation``) commits, the services
query, and refusals are mapped in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

BLUEPRINTS = Path(__file__).resolve().parents[1] / "app" / "blueprints"


def _route_modules() -> list[Path]:
    found = []
    for path in sorted(BLUEPRINTS.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call)
                and isinstance(d.func, ast.Attribute)
                and isinstance(d.func.value, ast.Name)
                and d.func.value.id == "bp"
                for d in node.decorator_list
            ):
                found.append(path)
                break
    return found


def _breaches(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app.models"):
            found.append(f"line {node.lineno}: imports {node.module}")
        if isinstance(node, ast.ImportFrom) and (
            (node.module or "").startswith("app.core.uow")
            or (node.module == "app.core" and any(a.name == "uow" for a in node.names))
        ):
            found.append(f"line {node.lineno}: imports the unit of work")
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "session"
            and isinstance(node.value, ast.Name)
            and node.value.id == "db"
        ):
            found.append(f"line {node.lineno}: db.session")
        if isinstance(node, ast.ExceptHandler) and node.type is not None:
            names = [n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)]
            if "ServiceError" in names:
                found.append(f"line {node.lineno}: catches ServiceError")
    return found


def test_there_are_route_modules_to_read():
    modules = {p.relative_to(BLUEPRINTS).as_posix() for p in _route_modules()}
    assert {"cases/routes.py", "panel/routes.py", "api/cases.py", "admin/routes.py"} <= modules


def test_no_route_module_queries_commits_or_catches_refusals():
    breaches = {
        path.relative_to(BLUEPRINTS).as_posix(): found
        for path in _route_modules()
        if (found := _breaches(path))
    }
    assert breaches == {}


def test_the_reading_finds_a_breach():
    """The check can fail: a module that queries and commits is named."""
    sample = BLUEPRINTS / "_sample_for_the_shape_test.py"
    sample.write_text(
        "from app.models.case import Case\nfrom app.core import uow\n"
        "@bp.get('/x')\ndef x():\n    db.session.get(Case, 1)\n    uow.commit()\n"
    )
    try:
        assert len(_breaches(sample)) == 3
    finally:
        sample.unlink()


def test_every_form_derives_from_the_one_base(app):
    """``Form`` keeps files out of text fields; a form built on ``FlaskForm`` directly would
    hand a posted file to a text validator and fail with a 500."""
    import inspect

    from flask_wtf import FlaskForm

    from app.blueprints.forms import Form

    def all_subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from all_subclasses(sub)

    forms = [c for c in all_subclasses(FlaskForm) if c.__module__.startswith("app.")]
    assert len(forms) > 20, forms
    direct = [
        f"{c.__module__}.{c.__qualname__}"
        for c in forms
        if c is not Form and not issubclass(c, Form)
    ]
    assert direct == [], f"forms built on FlaskForm directly: {direct}"
    assert inspect.getmodule(Form).__name__ == "app.blueprints.forms"
