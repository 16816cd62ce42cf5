"""Domain operations shared by the HTML and API routes, the CLI and the jobs.

Operations change models and flush; they never commit. The caller ends the
unit of work once with ``app.core.uow.commit`` so the change, its audit
events and its outbox rows land together.
"""
