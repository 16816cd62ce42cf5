"""One shape for every request: the unit of work around the view, refusals mapped once.

Every view runs inside :func:`unit_of_work` (wrapped once, in :func:`init_app`, so no
route can forget it): when the view answers with a success (below 400) the work is
committed once and the outbox handed to the relay; when it answers with an error, or
raises, everything is rolled back, stored files included. No route commits.

Refusals are mapped to their status in one place, :func:`as_refusal`: a service's
``ServiceError`` keeps its own (a store that cannot take a file, ``StorageUnavailable``,
is a 507: the request was fine, nothing was kept); a unique key already taken is a 409;
a value the database cannot hold (too long, out of range, not text) is a 422; a body
nested too deeply is a 400. The error handlers render them as a page or as
``{"errors": {...}}``.

A route that shows a refusal where the person acted (a form re-rendered with errors
beside its fields, or a flash on the page they came from) uses :func:`attempt`: the
operation runs and is flushed, so a database refusal surfaces there too, and on a
refusal the work is rolled back before the route answers.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import wraps
from typing import Generic, TypeVar

from flask import Flask, make_response, session
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from app.core import uow
from app.extensions import db
from app.services.errors import Conflict, DatabaseUnavailable, ServiceError, ValidationFailed
from app.tenants.replica import replica_reads

T = TypeVar("T")

#: PostgreSQL's SQLSTATE for a unique key already taken (other integrity errors are 422).
_UNIQUE_VIOLATION = "23505"


class BadRequest(ServiceError):
    status = 400


def as_refusal(exc: BaseException) -> ServiceError | None:
    """The refusal an exception stands for, or None when it is a fault (a 500 is right)."""
    if isinstance(exc, ServiceError):
        return exc
    if isinstance(exc, IntegrityError):
        if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION or "UNIQUE" in str(exc.orig):
            return Conflict(
                {"_schema": ["That already exists; someone may have saved it a moment ago."]}
            )
        return ValidationFailed({"_schema": ["A value refers to something that does not exist."]})
    if isinstance(exc, DataError):
        return ValidationFailed(
            {"_schema": ["A value is too long, out of range or not valid text for its field."]}
        )
    if isinstance(exc, RecursionError):
        return BadRequest({"_schema": ["The request is nested too deeply."]})
    if isinstance(exc, OperationalError):
        return DatabaseUnavailable(
            {"_schema": ["The database did not answer in time; nothing was changed. Try again."]}
        )
    return None


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """What an operation gave, or why it was refused (then nothing it did remains)."""

    result: T | None
    refusal: ServiceError | None

    @property
    def ok(self) -> bool:
        return self.refusal is None


def attempt(act: Callable[[], T], *, dry_run: bool = False) -> Attempt[T]:
    """Run one operation and flush it; on a refusal roll everything back and say why.

    A ``dry_run`` is rolled back even when the service accepts it: a confirmation page
    asks whether the operation would pass before anything is kept."""
    try:
        result = act()
        db.session.flush()
    except (ServiceError, IntegrityError, DataError, RecursionError) as exc:
        uow.rollback()
        return Attempt(None, as_refusal(exc))
    if dry_run:
        uow.rollback()
    return Attempt(result, None)


def writes_on_get(view: Callable) -> Callable:
    """Mark a view that must write although it answers a GET (a link followed from an
    e-mail that records its use, a sign-in callback): its transaction may write."""
    setattr(view, uow.WRITES_ON_GET, True)
    return view


#: The attribute :func:`reads_replica` sets on a view.
READS_REPLICA = "parley_reads_replica"


def reads_replica(view: Callable) -> Callable:
    """Mark a view that only reads what may be a few seconds old (a report, the network's
    figures): its reads go to the streaming replica when there is one
    (``app.tenants.replica``), and the page says how old they are when it trails."""
    setattr(view, READS_REPLICA, True)
    return view


def unit_of_work(view: Callable) -> Callable:
    """Commit once when the view succeeds; roll back (files too) when it fails or raises."""
    reads = replica_reads if getattr(view, READS_REPLICA, False) else nullcontext

    @wraps(view)
    def run(*args, **kwargs):
        try:
            with reads():
                response = make_response(view(*args, **kwargs))
        except BaseException:
            uow.rollback()
            raise
        if response.status_code >= 400:
            uow.rollback()
            return response
        try:
            uow.commit()
        except (IntegrityError, DataError) as exc:
            uow.rollback()
            # The view's "done" message would be a lie now.
            session.pop("_flashes", None)
            raise as_refusal(exc) from exc
        return response

    return run


#: JSON bodies nest no deeper than this; nothing Parley accepts comes near it.
MAX_JSON_DEPTH = 32


def json_depth(body: bytes) -> int:
    """How deeply a JSON text nests, read without parsing it (a parser would recurse)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def check_input() -> None:
    """At the edge, once, for every request: no text PostgreSQL cannot store (NUL, lone
    surrogates) in the query string, the form or a JSON body, and no JSON nested deeper
    than :data:`MAX_JSON_DEPTH`. A refusal here happens before any view has acted."""
    from flask import request

    from app.blueprints.api.helpers import refuse_unstorable_text

    refuse_unstorable_text(request.args)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        refuse_unstorable_text(request.form)
        refuse_unstorable_text({k: f.filename or "" for k, f in request.files.items()})
    elif request.is_json and json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
        raise BadRequest({"_schema": [f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."]})


def init_app(app: Flask) -> None:
    """Check input at the edge, and put every view of the app (after the blueprints are
    registered) in a unit of work."""
    app.before_request(check_input)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = unit_of_work(view)
