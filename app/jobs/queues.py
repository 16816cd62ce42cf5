"""RQ queues on the configured Redis, and the retry policy every job gets."""

from __future__ import annotations

from redis import Redis
from rq import Queue, Retry
from rq.job import Job

from app.core.redis import redis_connection
from app.models.outbox import OutboxMessage

#: Back-off between attempts; after the last one the job lands in RQ's failed registry.
RETRY = Retry(max=4, interval=[10, 60, 300, 900])


def queue(name: str, connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection())


def enqueue_message(message: OutboxMessage) -> None:
    queue(message.queue).enqueue(
        "app.jobs.runner.run_message",
        message.id,
        job_id=message.id,
        retry=RETRY,
        result_ttl=86400,
        failure_ttl=7 * 86400,
    )


def job_exists(job_id: str) -> bool:
    return Job.exists(job_id, connection=redis_connection())
