"""The consulting teacher's status reports to the panel."""

from __future__ import annotations
