"""One page of a list a service built: its rows and the counts a pager shows."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from app.extensions import db

#: The most rows a page may ask for (``?per_page=`` on the API, the lists' own sizes).
MAX_PER_PAGE = 200


def page_of(query: Select, page: int, per_page: int) -> Pagination:
    """Page ``page`` of ``query``, ``per_page`` rows (at most ``MAX_PER_PAGE``); a page past
    the last is empty, never an error. The rows and the total are two statements."""
    return db.paginate(
        query, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False
    )
