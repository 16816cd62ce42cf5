"""The annual program report pages."""
