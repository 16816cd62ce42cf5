"""Exports: request, follow, download."""
