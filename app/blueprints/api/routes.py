"""API routes: each validates with a schema, calls a service and answers (the request's
unit of work commits once; a refusal is the JSON error handler's)."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_login import current_user

from app.blueprints.api import bp
from app.blueprints.api.helpers import load, load_args, page_body
from app.blueprints.api.schemas.common import PageQuerySchema
from app.blueprints.api.schemas.users import (
    RolesSchema,
    TokenRequestSchema,
    TokenSchema,
    UserCreateSchema,
    UserPageSchema,
    UserSchema,
)
from app.blueprints.api.spec import build_spec, documented
from app.blueprints.loading import paginate, user_or_404
from app.services import tokens, users
from app.services.actors import current_actor
from app.tenants.resolution import current_tenant


@bp.get("/openapi.json")
def openapi():
    return jsonify(build_spec(current_app))


@bp.post("/t/<tenant_slug>/auth/token")
@documented(
    "Exchange e-mail and password for a bearer token",
    body=TokenRequestSchema,
    response=TokenSchema,
    status=201,
    auth=False,
    refusals={
        401: "E-mail or password is not correct, or the account is locked",
        403: "The district signs in through its identity provider, not a password",
    },
)
def issue_token():
    data = load(TokenRequestSchema())
    issued = tokens.issue(current_tenant().id, data["email"], data["password"])
    return TokenSchema().dump(issued), 201


@bp.delete("/t/<tenant_slug>/auth/token")
@documented("Revoke the token this request carries", status=204)
def revoke_token():
    token = request.headers.get("Authorization", "").partition(" ")[2].strip()
    tokens.revoke(token, current_actor())
    return "", 204


@bp.get("/t/<tenant_slug>/me")
@documented("The signed-in user and their roles", response=UserSchema)
def me():
    return UserSchema().dump(current_user.user)


@bp.get("/t/<tenant_slug>/users")
@documented(
    "The district's users, a page at a time (?page=)",
    query=PageQuerySchema,
    response=UserPageSchema,
)
def users_list():
    load_args(PageQuerySchema())
    page = paginate(users.listing())
    return UserPageSchema().dump(page_body(page))


@bp.post("/t/<tenant_slug>/users")
@documented(
    "Add a user with roles; they receive a welcome e-mail",
    body=UserCreateSchema,
    response=UserSchema,
    status=201,
)
def user_create():
    data = load(UserCreateSchema())
    user = users.create_user(current_tenant().id, **data, actor=current_actor())
    return UserSchema().dump(user), 201


@bp.get("/t/<tenant_slug>/users/<int:user_id>")
@documented("One user of the district", response=UserSchema)
def user_get(user_id: int):
    return UserSchema().dump(user_or_404(user_id))


@bp.put("/t/<tenant_slug>/users/<int:user_id>/roles")
@documented(
    "Replace a user's roles (removing one ends their sessions)",
    body=RolesSchema,
    response=UserSchema,
)
def user_update_roles(user_id: int):
    user = user_or_404(user_id)
    data = load(RolesSchema())
    users.set_roles(user, data["roles"], actor=current_actor())
    return UserSchema().dump(user)
