"""Services take their district from the ambient tenant scope, never from each caller.

A public service function with a ``tenant_id`` parameter is allowed only where it works
before or across a district's scope on purpose; each such function is named here with
the reason, so a new one is a decision someone writes down, not a habit.
"""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[1] / "app" / "services"

ACROSS_DISTRICTS = {
    "audit.record": "platform and provisioning actions write into a district's chain from "
    "outside its scope; the chain is keyed by district",
    "audit.verify_chain": "the operator's check walks any district's chain",
    "billing.ensure_customer": "a platform job: Stripe customers belong to the platform",
    "storage.save_upload": "files are stored by district below the store's root",
    "users.create_user": "platform console and CLI create people in a district they name",
    "users.create_pending": "single sign-on creates the person while signing in",
    "users.sign_in": "signing in happens before anyone is in a district's scope",
    "tokens.issue": "an API token is asked for before anyone is in a district's scope",
    "password_resets.request_reset": "asked for before anyone is signed in",
    "password_resets.live": "a reset link is read before anyone is signed in",
    "password_resets.find": "a reset link is read before anyone is signed in",
    "password_resets.complete": "a reset link is used before anyone is signed in",
    "sso.settings_for": "read while signing in, before a district's scope",
    "sso.active_settings": "read while signing in, before a district's scope",
    "sso.passwords_allowed": "read while signing in, before a district's scope",
    "sso.save_settings": "the platform console may set a district's provider",
    "sso.begin": "signing in happens before anyone is in a district's scope",
    "sso.complete": "signing in happens before anyone is in a district's scope",
}


def _with_tenant_id() -> set[str]:
    found = set()
    for path in SERVICES.rglob("*.py"):
        module = ".".join(path.relative_to(SERVICES).with_suffix("").parts)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                names = [a.arg for a in (*node.args.args, *node.args.kwonlyargs)]
                if "tenant_id" in names:
                    found.add(f"{module}.{node.name}")
    return found


def test_only_the_named_services_take_a_district_from_their_caller():
    assert _with_tenant_id() == set(ACROSS_DISTRICTS)


def test_the_reading_finds_a_service_that_takes_tenant_id():
    """The check can fail: a new module with such a function is found."""
    sample = SERVICES / "_sample_for_the_shape_test.py"
    sample.write_text("def count(tenant_id: int) -> int:\n    return 0\n")
    try:
        assert "_sample_for_the_shape_test.count" in _with_tenant_id()
    finally:
        sample.unlink()
