"""A district created without a preset starts its program from a clear first page."""

from __future__ import annotations

import html
import re

from tests.factories import csrf_token
from tests.routes import sign_in


def test_a_district_without_a_program_starts_from_a_preset_and_publishes(
    app, make_tenant, make_user
):
    tenant = make_tenant("fresh", "Fresh Schools")
    admin = make_user(tenant, "program_admin", email="admin@fresh.org")
    client = app.test_client()
    sign_in(client, admin)

    first = client.get("/t/fresh/admin/workflow")
    assert first.status_code == 200
    assert "Start your program" in first.text
    assert "Fresh Schools has no program configuration yet" in first.text
    assert "/t/fresh/admin/workflow/yaml?preset=toledo" in first.text
    assert "Toledo" in first.text  # the program's own name, not only its key

    editor = client.get("/t/fresh/admin/workflow/yaml?preset=toledo")
    assert editor.status_code == 200 and "tracks:" in editor.text
    assert client.get("/t/fresh/admin/workflow/yaml?preset=nowhere").status_code == 404

    text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", editor.text, re.S)[1])
    saved = client.post(
        "/t/fresh/admin/workflow/yaml",
        data={"text": text, "csrf_token": csrf_token(editor.text)},
    )
    assert saved.status_code == 302
    page = client.get("/t/fresh/admin/workflow")
    assert "Start your program" not in page.text
    published = client.post(
        "/t/fresh/admin/workflow/publish",
        data={"note": "our first program", "csrf_token": csrf_token(page.text)},
    )
    assert published.status_code == 302
    assert client.get("/t/fresh/enroll").status_code == 200
