"""The unit of work and the outbox: what services and jobs both stand on.

Services record their work here and jobs are handed it from here, so jobs depend on
services in one direction only and neither imports the other to end a transaction.
"""
