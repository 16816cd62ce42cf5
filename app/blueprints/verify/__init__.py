"""The public page where anyone checks a document the district signed."""
