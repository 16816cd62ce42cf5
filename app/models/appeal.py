"""Appeals of approved decisions, and the district calendar of days that are not working days."""

from __future__ import annotations
