"""Column types and the ``TenantScoped`` mixin every tenant-owned table uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)
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
    """Marks a table as owned by one tenant, and keys it by tenant.

    The tenant layer (``app.tenants.scoping``) filters every ORM query on these
    classes to the current tenant and refuses to flush a row of another one; on
    PostgreSQL the table's row-level security policy is the second wall, and the
    keys are the third: ``tenant_id`` leads the primary key ``(tenant_id, id)``, and
    every reference to another district table is ``(tenant_id, x_id)`` against it
    (``tenant_key``), so the database itself refuses a row that points into another
    district, and a table can be distributed by ``tenant_id`` without reshaping.

    The ORM still knows a row by ``id`` alone (``session.get(Case, 7)``): ids come
    from one sequence per table, so they never repeat across districts. SQLite, the
    embedded default, cannot number a two-column key, so there the migrations keep
    ``id`` as the key and add ``UNIQUE (tenant_id, id)`` for the references.
    """

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
        )

    @classmethod
    def __table_cls__(cls, name: str, metadata, *args, **kwargs) -> Table:
        table = Table(
            name,
            metadata,
            *args,
            PrimaryKeyConstraint("tenant_id", "id"),
            UniqueConstraint("tenant_id", "id", info={"only_on": "sqlite"}).ddl_if(
                dialect="sqlite"
            ),
            **kwargs,
        )
        # A sequence numbers integer ids (tenant_id comes from the tenant layer); the
        # few tables keyed by a made string (a UUID) keep it.
        if isinstance(table.c.id.type, Integer):
            table.c.id.autoincrement = True
        return table

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"primary_key": [cls.__table__.c.id]}


def compared_on(dialect: str) -> Callable[..., bool]:
    """Alembic's ``include_object`` for ``dialect``: a constraint made on one database only
    (``info["only_on"]``, as SQLite's ``UNIQUE (tenant_id, id)``) is compared there alone,
    so neither database's comparison of the models with its schema finds it missing."""

    def include(obj, name, type_, reflected, compare_to) -> bool:
        only_on = getattr(obj, "info", {}).get("only_on")
        return only_on is None or only_on == dialect

    return include


def tenant_key(column: str, table: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """A reference from a district table to another: ``(tenant_id, column)`` to
    ``table (tenant_id, id)``, so it can only ever point inside the same district.

    ``ON DELETE SET NULL`` would null ``tenant_id`` too, so such keys have none (the
    rows they point at are not deleted while referenced).
    """
    return ForeignKeyConstraint(
        ["tenant_id", column], [f"{table}.tenant_id", f"{table}.id"], ondelete=ondelete
    )


def tenant_scoped_tables(metadata) -> list[str]:
    """Names of every table with a ``tenant_id`` column: the ones RLS must cover."""
    return sorted(name for name, table in metadata.tables.items() if "tenant_id" in table.c)
