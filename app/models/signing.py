"""District signing keys and acknowledgments of a case's documents."""

from __future__ import annotations
