"""A serving process sets aside what building the app made, so full collections stay short."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: How many objects are set aside, and how many a full collection still walks (the
#: collector's generations hold only what is not frozen): counted, not timed, so a loaded
#: machine cannot fail it (``docs/scaling.md`` has the pause it saves, measured).
_PROBE = (
    "import gc\n"
    "import {module}\n"
    "gc.collect()\n"
    "print(gc.get_freeze_count(), len(gc.get_objects()))\n"
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
    frozen, walked = (int(n) for n in done.stdout.split()[-2:])
    # Building the app makes some 300,000 objects; all of them are set aside.
    assert frozen > 100_000
    # What is left for a full collection is the little made since: a small share of it.
    assert walked < frozen // 20
