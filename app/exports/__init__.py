"""Exports of a district's data, for a district that leaves Parley.

A departing district is owed every row and every file it put in. The modules here
turn records into a portable archive; they never touch the database, the request or
the storage backend themselves, so the archive format can be checked without any of
them. ``pg_json`` builds the statement with which PostgreSQL writes a table's lines
for the archive; the service that runs it holds the connection.
"""
