"""Errors as people and programs expect them: friendly pages, or ``{"errors": {...}}``."""

from __future__ import annotations

from flask import Flask, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from app.security.enforce import Unauthenticated
from app.services.errors import ServiceError

_MESSAGES = {
    400: "The request could not be understood.",
    401: "Sign in first.",
    403: "Your role does not allow this.",
    404: "Not found.",
    405: "This address does not accept that method.",
    409: "That conflicts with the current state.",
    413: "The file is larger than the server accepts (about 10 MB): split it and send each part.",
    422: "Some values are not valid.",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def json_errors(errors: dict[str, list[str]], status: int):
    return jsonify({"errors": errors}), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        if _wants_json():
            return json_errors(exc.errors, exc.status)
        return render_template(
            "errors/error.html", status=exc.status, errors=exc.errors
        ), exc.status

    @app.errorhandler(IntegrityError)
    @app.errorhandler(DataError)
    @app.errorhandler(RecursionError)
    def _refused_by_the_database(exc: Exception):
        """A refusal the database (or the parser) made: mapped once, in ``operation``."""
        from app.blueprints.operation import as_refusal

        return _service_error(as_refusal(exc))

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError):
        """A 503 that needs nothing from the database: the page is the message alone, since
        rendering the usual layout would ask the unanswering database again."""
        from app.blueprints.operation import as_refusal
        from app.core import uow

        refusal = as_refusal(exc)
        try:
            uow.rollback()
        except Exception:  # the connection may be gone; the pool replaces it
            app.logger.warning("rollback after a database fault failed", exc_info=True)
        if _wants_json():
            response = make_response(*json_errors(refusal.errors, refusal.status))
        else:
            message = escape(refusal.errors["_schema"][0])
            page = (
                '<!doctype html><html lang="en"><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                "<title>Try again in a moment</title><h1>Try again in a moment</h1>"
                f"<p>{message}</p>"
            )
            response = make_response(page, refusal.status)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Unauthenticated)
    def _unauthenticated(exc: Unauthenticated):
        response, status = json_errors(
            {"auth": ["A valid bearer token is required (POST .../auth/token to get one)."]}, 401
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="parley"'
        return response, status

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        message = (
            "This form has expired or did not come from this site. "
            "Go back, reload the page and try again."
        )
        if _wants_json():
            return json_errors({"csrf": [message]}, 400)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        message = _MESSAGES.get(status, exc.description)
        if _wants_json():
            return json_errors({"_request": [message]}, status)
        unknown_slug = g.get("unknown_tenant_slug")
        return (
            render_template(
                "errors/error.html", status=status, message=message, unknown_slug=unknown_slug
            ),
            status,
        )
