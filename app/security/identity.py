"""Who is calling: session users (HTML) and bearer tokens (API), bound to their tenant.

A session remembers the tenant it signed in to and the user's session version;
on any other tenant's URL, or after the version changes, it is worth nothing.
API requests ignore the session cookie entirely and read only the bearer token.
"""

from __future__ import annotations

import secrets
import time

from flask import Flask, current_app, flash, g, request, session
from flask_login import UserMixin, login_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app.extensions import db, login_manager
from app.models.user import PlatformUser, User
from app.models.workflow import WorkflowVersion
from app.services import workflow_config as configs
from app.tenants.context import current_tenant_id
from app.tenants.scoping import scoped


class TenantPrincipal(UserMixin):
    """A tenant user as Flask-Login sees it; the id carries tenant and session version."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"u:{self.user.tenant_id}:{self.user.id}:{self.user.session_version}"

    @property
    def roles(self) -> frozenset[str]:
        return self.user.roles

    @property
    def is_platform(self) -> bool:
        return False

    @property
    def display_name(self) -> str:
        return self.user.name


class PlatformPrincipal(UserMixin):
    def __init__(self, user: PlatformUser) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"p:{self.user.id}:{self.user.session_version}"

    @property
    def roles(self) -> frozenset[str]:
        return self.user.roles

    @property
    def is_platform(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.user.name


def begin_session(principal: TenantPrincipal | PlatformPrincipal) -> None:
    """Sign someone in on a fresh session: anything planted in the old one is gone, and the
    session gets a new id (so a fixed session id is worth nothing)."""
    session.clear()
    session["sid"] = secrets.token_urlsafe(16)
    session["signed_in_at"] = session["seen_at"] = int(time.time())
    login_user(principal)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.user_loader(_load_from_session)
    login_manager.request_loader(_load_from_bearer)
    app.before_request(_forget_cached_user)
    app.before_request(_expire_session)


def _forget_cached_user() -> None:
    """Identify every request afresh, even when an app context spans several requests."""
    g.pop("_login_user", None)


def _expire_session() -> None:
    """End a session idle longer than ``SESSION_IDLE_MINUTES`` or older than
    ``SESSION_MAX_HOURS``, before anyone is loaded from it. The clock is written back
    at most once a minute, so a busy page does not rewrite the cookie on every request."""
    if "_user_id" not in session:
        return
    now = int(time.time())
    started = session.setdefault("signed_in_at", now)
    seen = session.setdefault("seen_at", now)
    config = current_app.config
    if now - seen > config["SESSION_IDLE_MINUTES"] * 60 or (
        now - started > config["SESSION_MAX_HOURS"] * 3600
    ):
        session.clear()
        flash("Your session ended; sign in again.", "info")
    elif now - seen >= 60:
        session["seen_at"] = now


def _is_api_request() -> bool:
    return request.path.startswith("/api/")


def _load_from_session(user_id: str):
    # The tenant API authenticates by bearer token only; the network API, read-only and for
    # platform accounts, by the platform session.
    if _is_api_request() and not request.path.startswith("/api/v1/network/"):
        return None
    kind, *parts = user_id.split(":")
    if kind == "u" and len(parts) == 3:
        tenant_id, uid, version = (int(p) for p in parts)
        if tenant_id != current_tenant_id():
            return None
        user = _user_with_roles(uid)
        if user is None or not user.active or user.session_version != version:
            return None
        return TenantPrincipal(user)
    if kind == "p" and len(parts) == 2:
        uid, version = (int(p) for p in parts)
        user = db.session.get(PlatformUser, uid)
        if user is None or not user.active or user.session_version != version:
            return None
        return PlatformPrincipal(user)
    return None


#: The user and their roles in one statement, built once: every request reads it. With
#: them, the district's newest published version (its document stays behind), which nearly
#: every page reads for its labels and titles: one round trip fewer per page.
_USER_WITH_ROLES = scoped(
    select(User, WorkflowVersion)
    .outerjoin(WorkflowVersion, WorkflowVersion.id == configs.NEWEST_PUBLISHED_ID)
    .options(joinedload(User.role_grants))
    .where(User.id == bindparam("user_id"))
)


def _user_with_roles(user_id: int) -> User | None:
    """The user and their roles in one statement: every page reads the roles (the menu, the
    access checks), so loading them apart cost a second round trip on every request. The
    newest published version read beside them is noted for the request
    (``workflow_config.note_current``)."""
    row = db.session.execute(_USER_WITH_ROLES, {"user_id": user_id}).unique().one_or_none()
    if row is None:
        return None
    user, version = row
    configs.note_current(version)
    return user


def _load_from_bearer(req):
    if not _is_api_request():
        return None
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    from app.services.tokens import user_for_token

    user = user_for_token(token.strip())
    return TenantPrincipal(user) if user else None
