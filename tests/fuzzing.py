"""What the fuzzers share: the suite replays the same examples every run, so a landing is
never refused for an input no one changed; ``make fuzz`` explores new ones."""

from __future__ import annotations

import os

#: Explore fresh random inputs (``make fuzz``) rather than the suite's fixed ones.
EXPLORE = os.environ.get("PARLEY_FUZZ_EXPLORE") == "1"
