"""A serving process sets aside what building the app made, so full collections stay short."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_PROBE = (
    "import gc, time\n"
    "import {module}\n"
    "began = time.perf_counter(); gc.collect()\n"
    "print(gc.get_freeze_count(), (time.perf_counter() - began) * 1000)\n"
)


@pytest.mark.parametrize("module", ["wsgi", "bench.serve"])
def test_the_entry_points_freeze_the_apps_objects(module, migrated):
    env = {
        **os.environ,
        "PARLEY_ENV": "testing",
        "DATABASE_URL": migrated["app"],
        "PLATFORM_DATABASE_URL": migrated["platform"],
        "SECRET_KEY": "startup-test-secret-key-0123456789abcdef",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(module=module)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    frozen, collection_ms = done.stdout.split()[-2:]
    # Building the app makes some 300,000 objects; all of them are set aside.
    assert int(frozen) > 100_000
    # What is left for a full collection is the little made since (milliseconds, not the
    # hundreds a walk of everything took).
    assert float(collection_ms) < 50
