"""The ops pages."""
