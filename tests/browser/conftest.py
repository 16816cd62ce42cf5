"""A live server and headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import socket
import threading

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from tests.conftest import make_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Every page is one site (the loopback server): one renderer for all of them, and no
    # new process on each navigation (the pages send Cross-Origin-Opener-Policy), which
    # spent a tenth of the walks' processor time starting renderers.
    "--renderer-process-limit=1",
    "--disable-features=ProactivelySwapBrowsingInstance,BackForwardCache",
]


#: How long an ``expect`` waits for a page to show what it should: the tests' own waits
#: (``_until``), not Playwright's 5 s. The suite runs Chromium beside another worker on two
#: cores, where a page's script (the offline summary reads the device's queue first) has
#: taken longer than 5 s; a page that never shows it still fails, 15 s later.
expect.set_options(timeout=15_000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server(migrated):
    app = make_app(migrated)
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def browser():
    yield from _chromium()


@pytest.fixture(scope="module")
def shared_browser():
    """One Chromium for a whole module, for tests that each open their own contexts (a
    context per person keeps their sign-in apart; starting Chromium is the slow part)."""
    yield from _chromium()


def _chromium():
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
