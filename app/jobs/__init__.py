"""Background work: the outbox, its relay to RQ, the jobs, and the worker.

A state change adds outbox rows in its own transaction (``outbox.add``); after
commit the relay hands them to RQ (or, without ``REDIS_URL``, runs them inline);
a periodic sweep catches any row the relay could not hand over.
"""
