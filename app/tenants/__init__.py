"""The tenant layer: resolution from the URL, ambient scope, automatic query
scoping, PostgreSQL row-level security and branding."""
