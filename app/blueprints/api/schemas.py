"""API schemas, one per audience: fields are listed, never excluded."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

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
    email = fields.Email(required=True)
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


class PageSchema(Schema):
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class UserPageSchema(PageSchema):
    items = fields.List(fields.Nested(UserSchema))


class ErrorSchema(Schema):
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
