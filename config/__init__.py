"""Settings classes, chosen by ``PARLEY_ENV`` and overridden by environment variables.

Each deployment differs only in its environment: the classes hold safe defaults,
``load_settings`` applies the variables on top so nothing secret lives in code.
"""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
_INSTANCE = _ROOT / "instance"

#: Values that mean "nobody chose a secret": production refuses them.
_PLACEHOLDER_SECRETS = {"", "dev", "change-me", "development-only-secret"}


class ConfigurationError(RuntimeError):
    """Raised when the settings cannot run safely; the message says what to set."""


class Base:
    SECRET_KEY = "development-only-secret"
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{_INSTANCE / 'parley.sqlite3'}"
    #: Engine options of one deployment; ``load_settings`` adds the timeouts below under
    #: whatever is given here (pooled connections are checked by ``app.core.pooled``).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: Seconds to wait for PostgreSQL to accept a connection (libpq counts at least 2), and
    #: for one statement to finish (0: the app sets none, so the role's or the server's own
    #: applies; behind a pooler that refuses the ``options`` start-up parameter, set it on
    #: the role). Past either, the request fails with an error instead of holding a worker
    #: until gunicorn kills it.
    DATABASE_CONNECT_TIMEOUT = 5
    DATABASE_STATEMENT_TIMEOUT = 30
    #: Migrations run as the owner of the schema; the app may connect as a weaker role.
    MIGRATION_DATABASE_URL: str | None = None
    #: Work across districts (the outbox relay, reminders' sweeps, billing, operators'
    #: pages) connects as its own role, the only one the database lets see every district;
    #: the web role's policy admits its request's district alone, whatever it sets.
    #: Unset, that work shares the app's connection (SQLite, or a single-role setup).
    PLATFORM_DATABASE_URL: str | None = None
    #: A streaming replica of the database, as the app's role and as the platform's: the
    #: reports, the network's pages and API, and exports read from it (``app.tenants.
    #: replica``). Unset, every read goes to the primary.
    REPLICA_DATABASE_URL: str | None = None
    PLATFORM_REPLICA_DATABASE_URL: str | None = None
    #: Seconds a replica may trail the primary before the pages that read it say how old
    #: their figures are.
    REPLICA_LAG_NOTICE_SECONDS = 5
    #: Set when the app connects through a pooler in transaction mode (PgBouncer): a
    #: server connection serves another client's transaction next, so statements are not
    #: prepared (PgBouncer 1.18 cannot follow them) and no start-up ``options`` are sent.
    DATABASE_TRANSACTION_POOLER = False
    REDIS_URL: str | None = None
    RQ_QUEUES = ("default", "mail", "exports")
    #: Rows of one queue the relay hands over to one job, at most (unnamed queues: one). A
    #: notice's own work is a few milliseconds, about what the queue's bookkeeping of one
    #: job costs, so notices travel several to a job; an export is minutes, and travels alone.
    RELAY_BATCH = {"mail": 20}
    MAIL_SERVER = "127.0.0.1"
    MAIL_PORT = 8025
    MAIL_USE_TLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Parley <no-reply@parley.local>"
    #: Without an SMTP server (the embedded default) mail is written to this folder.
    MAIL_SUPPRESS_SEND = False
    MAIL_OUTBOX_DIR: str | None = None
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE: str | None = None
    #: Plans a district can subscribe to; ``stripe_price`` is a Stripe price (or plan) id,
    #: set per deployment by STRIPE_PRICE_IDS ("district=price_123,small=price_456").
    PLANS = {
        "district": {
            "name": "District",
            "amount_cents": 240000,
            "interval": "year",
            "stripe_price": None,
        },
    }
    #: Days a district with a failed payment keeps full use before it becomes read-only.
    BILLING_GRACE_DAYS = 14
    API_TOKEN_TTL_HOURS = 12
    #: A signed-in session ends after this much inactivity, and at the latest this long after
    #: sign-in (the district's identity provider may ask for less, never more).
    SESSION_IDLE_MINUTES = 60
    SESSION_MAX_HOURS = 12
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    PAGE_SIZE = 50
    #: Evidence files: where they are kept (default: instance/uploads) and how large they may be.
    UPLOAD_ROOT: str | None = None
    MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
    #: The request limit sits a little above the file limit, so forms around the file still fit.
    MAX_CONTENT_LENGTH = MAX_EVIDENCE_BYTES + 512 * 1024
    PASSWORD_HASHER = "strong"
    #: A Fernet key for secrets kept in the database; derived from SECRET_KEY when unset.
    DATA_ENCRYPTION_KEY: str | None = None
    #: Failed password sign-ins in a row that lock an account, and for how long.
    LOGIN_LOCKOUT_THRESHOLD = 10
    LOGIN_LOCKOUT_MINUTES = 15
    PASSWORD_RESET_TTL_MINUTES = 60
    #: How long the set-password link a teacher accepted at intake gets stays good.
    INVITATION_TTL_DAYS = 7
    #: Abuse limits (Flask-Limiter): kept in Redis when REDIS_URL is set, else in memory.
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    #: Addresses fetched on a tenant's word (the SSO issuer and what its discovery names) must
    #: be public https ones; on, private and loopback addresses are allowed too, over http or
    #: https (development and tests run their identity provider on loopback). Never in production.
    OUTBOUND_ALLOW_PRIVATE = False
    #: Strict-Transport-Security: only where the site is served over https.
    HSTS = False


class Development(Base):
    ENV_NAME = "development"
    OUTBOUND_ALLOW_PRIVATE = True
    MAIL_SUPPRESS_SEND = True
    MAIL_OUTBOX_DIR = str(_INSTANCE / "mail")


class Testing(Base):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret"
    WTF_CSRF_ENABLED = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    PASSWORD_HASHER = "fast"
    MAIL_SUPPRESS_SEND = True
    OUTBOUND_ALLOW_PRIVATE = True


class Production(Base):
    ENV_NAME = "production"
    SECRET_KEY = ""
    SESSION_COOKIE_SECURE = True
    #: ``__Host-``: the browser accepts it only over https, for this host, on path /.
    SESSION_COOKIE_NAME = "__Host-parley-session"
    REMEMBER_COOKIE_SECURE = True
    HSTS = True
    OUTBOUND_ALLOW_PRIVATE = False


_CLASSES = {"development": Development, "testing": Testing, "production": Production}

_STRING_VARS = (
    "SECRET_KEY",
    "REDIS_URL",
    "MIGRATION_DATABASE_URL",
    "PLATFORM_DATABASE_URL",
    "REPLICA_DATABASE_URL",
    "PLATFORM_REPLICA_DATABASE_URL",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_DEFAULT_SENDER",
    "MAIL_OUTBOX_DIR",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "PUBLIC_BASE_URL",
    "UPLOAD_ROOT",
    "DATA_ENCRYPTION_KEY",
)
_INT_VARS = (
    "MAIL_PORT",
    "API_TOKEN_TTL_HOURS",
    "LOGIN_LOCKOUT_THRESHOLD",
    "LOGIN_LOCKOUT_MINUTES",
    "PASSWORD_RESET_TTL_MINUTES",
    "INVITATION_TTL_DAYS",
    "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
    "DATABASE_CONNECT_TIMEOUT",
    "DATABASE_STATEMENT_TIMEOUT",
    "REPLICA_LAG_NOTICE_SECONDS",
)
_BOOL_VARS = (
    "MAIL_USE_TLS",
    "MAIL_SUPPRESS_SEND",
    "RATELIMIT_ENABLED",
    "HSTS",
    "DATABASE_TRANSACTION_POOLER",
)


def _as_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_settings(env_name: str | None = None, overrides: dict | None = None) -> dict:
    """Return the settings for ``env_name`` (default ``PARLEY_ENV``) with env vars applied.

    ``overrides`` win over everything; tests use them instead of mutating ``os.environ``.
    """
    name = (env_name or os.environ.get("PARLEY_ENV") or "development").lower()
    if name not in _CLASSES:
        raise ConfigurationError(
            f"PARLEY_ENV={name!r} is not one of {', '.join(sorted(_CLASSES))}."
        )
    cls = _CLASSES[name]
    settings = {key: getattr(cls, key) for key in dir(cls) if key.isupper()}
    if os.environ.get("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_db_url(os.environ["DATABASE_URL"])
    for key in _STRING_VARS:
        if key in os.environ:
            settings[key] = os.environ[key] or None
    for key in _INT_VARS:
        if os.environ.get(key):
            settings[key] = int(os.environ[key])
    for key in _BOOL_VARS:
        if key in os.environ:
            settings[key] = _as_bool(os.environ[key])
    settings["PLANS"] = _plans_with_prices(settings["PLANS"], os.environ.get("STRIPE_PRICE_IDS"))
    settings.update(overrides or {})
    for key in ("MIGRATION_DATABASE_URL", *_URL_OF_BIND.values()):
        if settings.get(key):
            settings[key] = normalise_db_url(settings[key])
    _check(name, settings)
    settings["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(settings)
    # A bind given as a dict takes no defaults from SQLALCHEMY_ENGINE_OPTIONS: each gets the
    # same timeouts explicitly. A replica that is down must not hold a request
    # for the app's connect timeout: its reads fall back to the primary after a short wait.
    binds = {}
    for bind, key in _URL_OF_BIND.items():
        if settings.get(key):
            binds[bind] = {**settings["SQLALCHEMY_ENGINE_OPTIONS"], "url": settings[key]}
            if "replica" in bind and "connect_args" in binds[bind]:
                binds[bind]["connect_args"] = {
                    **binds[bind]["connect_args"],
                    "connect_timeout": REPLICA_CONNECT_TIMEOUT,
                }
    if binds:
        settings["SQLALCHEMY_BINDS"] = binds
    return settings


#: The extra engines and the setting that gives each one's URL.
_URL_OF_BIND = {
    "platform": "PLATFORM_DATABASE_URL",
    "replica": "REPLICA_DATABASE_URL",
    "platform_replica": "PLATFORM_REPLICA_DATABASE_URL",
}
#: Seconds to wait for the replica to accept a connection (libpq's shortest wait is 2 s).
REPLICA_CONNECT_TIMEOUT = 2


def _plans_with_prices(plans: dict, price_ids: str | None) -> dict:
    """The plans, each with the Stripe price STRIPE_PRICE_IDS gives it.

    A copy, so one app's prices never leak into the class (and another app) by mutation.
    Price ids differ between Stripe's test and live modes, so they belong to the
    deployment's environment, not to the code. Every mistake is named at once.
    """
    plans = {key: dict(plan) for key, plan in plans.items()}
    problems = []
    for pair in (price_ids or "").split(","):
        if not pair.strip():
            continue
        key, _, price = (part.strip() for part in pair.partition("="))
        if key not in plans:
            problems.append(f"{key!r} is not a plan (plans: {', '.join(sorted(plans))})")
        elif not price:
            problems.append(f"{key!r} has no price id (write {key}=price_...)")
        else:
            plans[key]["stripe_price"] = price
    if problems:
        raise ConfigurationError("STRIPE_PRICE_IDS: " + "; ".join(problems) + ".")
    return plans


def _engine_options(settings: dict) -> dict:
    """The engine options every environment needs, under the ones the settings give.

    A pooled PostgreSQL connection is tested before it is lent (``app.core.pooled``: its
    socket looked at, a ping after idleness), so one the server closed (a restart, a
    failover, an idle timeout on the way) is replaced instead of failing the request that
    drew it; ``pool_pre_ping``'s round trip per checkout is then not needed. PostgreSQL
    also gets the connect and statement timeouts, so a database that accepts and never
    answers, or a runaway query, costs a worker seconds. SQLite has none of these: it is a
    file, and its lock wait is already bounded. A server ``options`` string given by the
    deployment is kept, after the timeout, so what it sets wins.
    """
    options = dict(settings["SQLALCHEMY_ENGINE_OPTIONS"])
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("postgres"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", int(settings["DATABASE_CONNECT_TIMEOUT"]))
        statement_ms = int(settings["DATABASE_STATEMENT_TIMEOUT"] * 1000)
        if settings.get("DATABASE_TRANSACTION_POOLER"):
            # The pooler hands each transaction any server connection: a statement psycopg
            # prepared on one is unknown on the next, and PgBouncer refuses ``options``.
            connect_args["prepare_threshold"] = None
        elif statement_ms:
            server = f"-c statement_timeout={statement_ms} {connect_args.get('options', '')}"
            connect_args["options"] = server.strip()
        options["connect_args"] = connect_args
    return options


def normalise_db_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` forms hosts hand out; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _check(name: str, settings: dict) -> None:
    if settings["DATABASE_CONNECT_TIMEOUT"] < 1:
        raise ConfigurationError(
            "DATABASE_CONNECT_TIMEOUT: must be at least 1 second (0 would wait forever)."
        )
    if settings["DATABASE_STATEMENT_TIMEOUT"] < 0:
        raise ConfigurationError(
            "DATABASE_STATEMENT_TIMEOUT: must be 0 (the app sets none) or more seconds."
        )
    if name != "production":
        return
    secret = settings.get("SECRET_KEY") or ""
    if secret in _PLACEHOLDER_SECRETS or len(secret) < 32:
        raise ConfigurationError(
            "Production needs SECRET_KEY set to a random value of at least 32 characters "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))'). "
            "Sessions and CSRF tokens are signed with it, so a guessable one lets anyone "
            "forge a login."
        )
    if settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        raise ConfigurationError("Production needs DATABASE_URL pointing at PostgreSQL.")
    if not settings.get("PLATFORM_DATABASE_URL"):
        raise ConfigurationError(
            "Production needs PLATFORM_DATABASE_URL: the connection, as the platform role "
            "(parley_platform), that work across districts uses. The web role cannot see "
            "another district's rows, so without it reminders, billing and the relay see none."
        )
