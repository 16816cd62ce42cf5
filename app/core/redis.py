"""The connection to the configured Redis, for the queues and the health check alike."""

from __future__ import annotations

from flask import current_app
from redis import Redis


def redis_connection() -> Redis:
    """A client with short timeouts: a Redis that does not answer is reported, not waited on."""
    return Redis.from_url(
        current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=5
    )
