"""The consulting-teacher roster pages."""
