"""Program reports computed from plain records.

The modules here never touch the database or the request: the service layer
loads the records, these functions turn them into JSON-ready figures, so the
arithmetic of a report can be checked by hand against the one a committee wrote.
"""
