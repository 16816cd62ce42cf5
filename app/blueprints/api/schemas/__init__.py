"""API schemas, one per audience: fields are listed, never excluded.

One module per feature, named like the route module that uses it (``cases``, ``support``,
``panel``, ``workflow``, ``imports``; ``users`` for the token and user routes of
``routes.py``); ``common`` holds what several of them share. Import each schema from its
module: this package re-exports nothing.
"""
