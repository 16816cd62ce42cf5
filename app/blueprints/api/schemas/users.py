"""Tokens and users (``api/routes.py``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.blueprints.api.schemas.common import PageSchema
from app.security.roles import TENANT_ROLE_KEYS


class TokenRequestSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True)


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class UserSchema(Schema):
    """A user as a program admin (or the user themself) sees them."""

    id = fields.Integer()
    email = fields.Email()
    name = fields.String()
    roles = fields.Method("_roles")
    active = fields.Boolean()

    def _roles(self, user) -> list[str]:
        return sorted(user.roles)


class UserCreateSchema(Schema):
    email = fields.String(required=True, metadata={"format": "email"})  # checked by the service
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(TENANT_ROLE_KEYS))),
        required=True,
        validate=validate.Length(min=1),
    )
    password = fields.String(load_only=True, load_default=None)


class RolesSchema(Schema):
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(TENANT_ROLE_KEYS))),
        required=True,
        validate=validate.Length(min=1),
    )


class UserPageSchema(PageSchema):
    items = fields.List(fields.Nested(UserSchema))
