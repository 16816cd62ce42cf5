"""Domain operations shared by the HTML and API routes, the CLI and the jobs.

Operations change models and flush; the caller ends the unit of work once with
``app.core.uow.commit`` so the change, its audit events and its outbox rows land
together. Three operations commit on purpose, each saying why where it does: a refused
sign-in keeps its audit and lockout while the request fails (``users``, ``sso``), and an
export job commits its progress so the person waiting sees it move (``exports``).
"""
