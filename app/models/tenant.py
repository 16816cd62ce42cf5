"""The district: one tenant, its branding and its status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

#: The status of a district whose portal is open (the other one: "suspended").
OPEN = "active"
TENANT_STATUSES = (OPEN, "suspended")


class Tenant(db.Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    primary_color: Mapped[str] = mapped_column(String(7), default="#1f4e79")
    accent_color: Mapped[str] = mapped_column(String(7), default="#c8102e")
    logo_url: Mapped[str | None] = mapped_column(String(500))
    #: A logo the program admin uploaded (a storage key and its type); it wins over logo_url.
    logo_key: Mapped[str | None] = mapped_column(String(80))
    logo_type: Mapped[str | None] = mapped_column(String(40))
    welcome_text: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    locale: Mapped[str] = mapped_column(String(16), default="en-US")
    #: The languages the district offers what a teacher reads in (English always first).
    languages: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["en"], server_default='["en"]'
    )
    preset_key: Mapped[str | None] = mapped_column(String(64))
    #: Billing: trialing / active / past_due / canceled, driven by Stripe's webhooks.
    billing_status: Mapped[str] = mapped_column(String(20), default="trialing")
    #: The plan of the settings whose price the subscription is on (None: not one of ours).
    plan_key: Mapped[str | None] = mapped_column(String(40))
    #: The Stripe price (or legacy plan) the subscription is on, as the subscription says.
    stripe_price_id: Mapped[str | None] = mapped_column(String(64))
    #: What the subscription charges a month, in cents, read from its price: the source of
    #: the district's MRR (whatever the settings say a plan costs, Stripe bills this).
    monthly_amount_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    stripe_customer_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(64))
    past_due_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The Stripe ``created`` time of the event that set the status: older events never win.
    billing_changed_at: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"
