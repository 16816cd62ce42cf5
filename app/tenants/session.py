"""The ORM session class: ``get`` respects the tenant scope even from its cache.

``Session.get`` answers from the identity map without SQL, so the automatic
filter never sees it. A session that loaded another tenant's row earlier (a
CLI command or job that works across scopes) must still not hand it out here.
"""

from __future__ import annotations

from typing import Any

from flask_sqlalchemy.session import Session as _FlaskSession


class TenantSession(_FlaskSession):
    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        obj = super().get(entity, ident, **kwargs)
        if obj is None:
            return None
        from app.models.base import TenantScoped
        from app.tenants.context import current_scope

        scope = current_scope()
        hidden = isinstance(obj, TenantScoped) and not scope.all_tenants
        return None if hidden and obj.tenant_id != scope.tenant_id else obj
