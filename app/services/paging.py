"""One page of a list a service built: its rows and the counts a pager shows."""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, select

from app.extensions import db
from app.tenants import reads

#: The most rows a page may ask for (``?per_page=`` on the API, the lists' own sizes).
MAX_PER_PAGE = 200


def page_of(query: Select, page: int, per_page: int) -> Pagination:
    """Page ``page`` of ``query``, ``per_page`` rows (at most ``MAX_PER_PAGE``); a page past
    the last is empty, never an error. The rows and the total are two statements.

    A query of columns is read as rows on the request's connection (``reads``): a list
    that only shows them needs no objects. A query of objects is read through the session.
    """
    if not _selects_objects(query):
        return _RowsPagination(
            select=query, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False
        )
    return db.paginate(
        query, page=page, per_page=per_page, max_per_page=MAX_PER_PAGE, error_out=False
    )


def _selects_objects(query: Select) -> bool:
    # An entity's description has its class as its type; a column's, a SQL type.
    return any(isinstance(d["type"], type) for d in query.column_descriptions)


class _RowsPagination(Pagination):
    """Flask-SQLAlchemy's pager over rows read by ``reads`` (its ``SelectPagination`` reads
    through the session and keeps only each row's first column)."""

    def _query_items(self) -> list[Any]:
        query = self._query_args["select"]
        return list(reads.rows(query.limit(self.per_page).offset(self._query_offset)))

    def _query_count(self) -> int:
        # Counted on the first column alone: the others (a next deadline, say) are not read.
        query = self._query_args["select"]
        counted = query.with_only_columns(query.selected_columns[0]).order_by(None).subquery()
        return reads.scalar(select(func.count()).select_from(counted))
