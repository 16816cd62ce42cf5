"""The roster import in Chromium, as a program admin uses it: map the roles, choose the
bundle, read the preview (or the errors by file, line and column), import. Each state of
the page is read at both widths like every page (axe-core, ids, nothing wider than a phone)."""

from __future__ import annotations

import pytest

from tests.browser.pagewalk import DESKTOP, PHONE, Checks, problems_on, session_cookie
from tests.test_oneroster_import import USERS, bundle, zipped

pytestmark = pytest.mark.browser


def _read(page, checks: Checks, state: str, status: int = 200) -> list[str]:
    problems = [f"{state} at 1280 px: {p}" for p in problems_on(page, phone=False)]
    page.set_viewport_size(PHONE)
    problems += [f"{state} at 390 px: {p}" for p in problems_on(page, phone=True)]
    page.set_viewport_size(DESKTOP)
    # Chromium reports a refusal's own status once; anything more is a problem.
    said = f"console error: Failed to load resource: the server responded with a status of {status}"
    heard = [h for h in checks.take() if status == 200 or not h.startswith(said)]
    return problems + [f"{state}: {p}" for p in heard]


def _submit(page, button: str) -> None:
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("button", name=button).click()


def test_a_program_admin_maps_previews_and_imports_a_bundle(
    app, district, live_server, browser, tmp_path
):
    d = district("springfield", "boston_esp")
    context = browser.new_context(viewport=DESKTOP)
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = session_cookie(app, d.people["admin"])
    context.add_cookies([{"name": name, "value": cookie, "url": live_server}])
    page = context.new_page()
    checks = Checks(page)
    imports = f"{live_server}/t/{d.slug}/admin/imports"
    problems: list[str] = []

    page.goto(imports)
    page.get_by_label("Teacher (teacher)").select_option(label="Teacher")
    page.get_by_label("Principal (principal)").select_option(label="Principal")
    _submit(page, "Save the role mapping")
    assert "role mapping is saved" in page.content()
    problems += _read(page, checks, "the saved mapping")

    bad = tmp_path / "bad.zip"
    bad.write_bytes(zipped(bundle(users=USERS.replace("ben.baker@springfield.org", "ben@"))))
    page.get_by_label("Schools and staff from the district's system").check()
    page.locator("#file").set_input_files(str(bad))
    _submit(page, "Check the file")
    table = page.get_by_role("table", name="Problems in the bundle, by file, line and column")
    assert "users.csv" in table.inner_text() and "email" in table.inner_text()
    problems += _read(page, checks, "a refused bundle", status=422)

    good = tmp_path / "roster.zip"
    good.write_bytes(zipped(bundle()))
    page.get_by_label("Schools and staff from the district's system").check()
    page.locator("#file").set_input_files(str(good))
    _submit(page, "Check the file")
    assert "Preview of roster.zip: nothing is written yet" in page.content()
    problems += _read(page, checks, "the preview")

    _submit(page, "Import the roster")
    assert "Imported the roster: 3 new and 0 updated people, 3 roles granted." in page.content()
    context.close()
    assert not problems, "\n".join(problems)
