"""Abuse limits: one table of which endpoints are limited, how hard, and by what key.

Flask-Limiter counts in Redis when ``REDIS_URL`` is set (so every gunicorn
worker and machine shares the count) and in memory otherwise. Each limited
endpoint is counted per client address and, where a request names an account
(an e-mail, a survey link, a signed-in user), per account as well, so neither a
single address trying many accounts nor many addresses trying one account gets
far. A breach answers 429 with ``Retry-After``, as a page or as JSON.

Sign-ins count only what fails: a school's teachers share one address, and a morning's
sign-ins there, or one person signing in on five devices, must never be refused. Failures
are counted per address (generously: a shared address sees everyone's typos) and per
account (tightly), and repeated failures lock the account as well (``users.authenticate``).

The limits are applied to the registered view functions here, like the
authorization matrix, so no route module carries them and none is forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user


def _tenant() -> str:
    return (request.view_args or {}).get("tenant_slug", "-")


def _account_by_email() -> str:
    """The account a sign-in or reset names; the address when it names none."""
    email = request.form.get("email")
    if email is None:
        body = request.get_json(silent=True)
        email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip():
        return f"ip:{get_remote_address()}"
    return f"account:{_tenant()}:{email.strip().lower()}"


def _link_token() -> str:
    args = request.view_args or {}
    return f"link:{_tenant()}:{args.get('token') or args.get('reset_token') or '-'}"


def _feed_key() -> str:
    return f"feed:{_tenant()}:{request.args.get('key')}"


def _signed_in_user() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.get_id()}"
    return f"ip:{get_remote_address()}"


def failed(response: Response) -> bool:
    """Whether a request counts toward a failures-only limit: it was refused."""
    return response.status_code >= 400


@dataclass(frozen=True)
class Limit:
    value: str
    key: Callable[[], str] = get_remote_address
    methods: tuple[str, ...] | None = ("POST",)
    #: Which responses count (all of them when None), e.g. ``failed`` for sign-ins.
    counts: Callable[[Response], bool] | None = None


_SIGN_IN = (
    Limit("30/minute;300/hour", counts=failed),
    Limit("5/minute;30/hour", key=_account_by_email, counts=failed),
)

LIMITS: dict[str, tuple[Limit, ...]] = {
    "auth.login": _SIGN_IN,
    "ops.login": _SIGN_IN,
    "api.issue_token": _SIGN_IN,
    "auth.password_forgot": (
        Limit("10/minute;50/hour"),
        Limit("3/hour", key=_account_by_email),
    ),
    # Reset and survey links are bearer secrets in a URL: guessing them is limited on GET too.
    "auth.password_reset": (
        Limit("20/minute;100/hour", methods=None),
        Limit("10/hour", key=_link_token, methods=None),
    ),
    "auth.sso_callback": (Limit("30/minute", methods=None),),
    # A calendar feed's secret is in its URL, so guessing is limited per address; a school's
    # calendars share one address and each polls every few minutes at most.
    "feeds.feed": (
        Limit("120/minute;2000/hour", methods=None),
        Limit("20/minute", key=_feed_key, methods=None),
    ),
    # Each SAML answer runs xmlsec1: refused ones are limited (a school's morning is not).
    "auth.saml_acs": (Limit("30/minute;300/hour", counts=failed),),
    # The public enrollment form opens cases and answers about addresses: not a probe.
    "enroll.form": (Limit("10/minute;50/hour"),),
    # The verify page parses an upload and checks a signature: cheap to ask, not to answer.
    "verify.form": (Limit("10/minute;60/hour"),),
    # A school's teachers may answer from one address at once: generous per address.
    "surveys.answer": (
        Limit("120/minute;1000/hour", methods=None),
        Limit("20/minute", key=_link_token, methods=None),
    ),
    "api.import_cases": (
        Limit("20/minute"),
        Limit("10/minute;100/hour", key=_signed_in_user),
    ),
    "api.import_survey_responses": (
        Limit("20/minute"),
        Limit("10/minute;100/hour", key=_signed_in_user),
    ),
}


def init_app(app: Flask) -> None:
    """Give the app its own limiter and wrap each listed view (after the blueprints exist).

    One limiter per app, not one per process: view functions are shared by every
    app built in a process, and a shared limiter would count each request once per app.
    """
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "parley-limits")
    # Redis down must not lock everyone out: count in this process until it is back.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter = Limiter(key_func=get_remote_address, headers_enabled=True)
    limiter.init_app(app)
    app.extensions["parley_limiter"] = limiter
    for endpoint, limits in LIMITS.items():
        view = app.view_functions[endpoint]
        for limit in limits:
            view = limiter.limit(
                limit.value,
                key_func=limit.key,
                methods=list(limit.methods) if limit.methods else None,
                scope=f"{endpoint}:{limit.key.__name__}",
                error_message=_message,
                deduct_when=limit.counts,
            )(view)
        app.view_functions[endpoint] = view


def reset() -> None:
    """Forget every count (tests start each case from none)."""
    if current_app.config.get("RATELIMIT_ENABLED", True):
        current_app.extensions["parley_limiter"].reset()


def _message() -> str:
    return "Too many attempts from here or for this account. Wait a little, then try again."
