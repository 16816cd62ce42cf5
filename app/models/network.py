"""The national network: a district's membership (inside the tenant), and the releases
(outside any tenant: aggregates only, already suppressed or noised, with no id that leads
back to a district's rows)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, utcnow


class NetworkMembership(TenantScoped, db.Model):
    __tablename__ = "network_memberships"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The only thing that ties releases to this district; known inside the tenant alone.
    member_key: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    named: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymous_label: Mapped[str] = mapped_column(String(40))
    noisy: Mapped[bool] = mapped_column(Boolean, default=False)
    epsilon_per_year: Mapped[float] = mapped_column(Float, default=1.0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PrivacySpend(TenantScoped, db.Model):
    """A school year in the network, inside the district: the year's ledger.

    Whether the year was published (then it is final), the epsilon its release spent, under
    which key and whether by name (so the district can find and withdraw it), when it was
    withdrawn, and the last refusal of a request to publish it.
    """

    __tablename__ = "privacy_spends"
    __table_args__ = (UniqueConstraint("tenant_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[str] = mapped_column(String(9))
    spent: Mapped[float] = mapped_column(Float, default=0.0)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    noisy: Mapped[bool | None] = mapped_column(Boolean)
    named: Mapped[bool | None] = mapped_column(Boolean)
    member_key: Mapped[str | None] = mapped_column(String(36))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refusal: Mapped[str | None] = mapped_column(Text)


class NetworkRelease(db.Model):
    """One district-year's published figures, written once and never changed (a district
    may withdraw it: the row is deleted). A platform table: no tenant_id on purpose."""

    __tablename__ = "network_releases"
    __table_args__ = (UniqueConstraint("member_key", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_key: Mapped[str] = mapped_column(String(36), index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    #: From the published all-tracks participants; None when that total is hidden.
    size_band: Mapped[str | None] = mapped_column(String(20))
    year: Mapped[str] = mapped_column(String(9), index=True)
    noisy: Mapped[bool] = mapped_column(Boolean, default=False)
    #: {"all": {...figures...}, "<track kind>": {...}}; suppressed cells are null.
    figures: Mapped[dict] = mapped_column(JSON)
    minimum: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
