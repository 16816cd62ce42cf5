"""Column types and the ``TenantScoped`` mixin every tenant-owned table uses."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer
from sqlalchemy.orm import Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend.

    SQLite drops the zone, so comparing a stored expiry with ``utcnow()`` would
    raise there and work on PostgreSQL; this type makes both behave the same.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC time is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        # The server may answer in its session's zone; hashes and comparisons need UTC.
        return value.astimezone(UTC)


class TenantScoped:
    """Marks a table as owned by one tenant.

    The tenant layer (``app.tenants.scoping``) filters every ORM query on these
    classes to the current tenant and refuses to flush a row of another one; on
    PostgreSQL the table's row-level security policy is the second wall.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False, index=True
        )


def tenant_scoped_tables(metadata) -> list[str]:
    """Names of every table with a ``tenant_id`` column: the ones RLS must cover."""
    return sorted(name for name, table in metadata.tables.items() if "tenant_id" in table.c)
