"""Documents built off the request path: what was asked, how far it got, where it is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow

EXPORT_KINDS = (
    "annual_pdf",
    "annual_xlsx",
    "cases_csv",
    "cases_xlsx",
    "visits_csv",
    "survey_csv",
    "tenant_archive",
)


class ExportJob(TenantScoped, db.Model):
    __tablename__ = "export_jobs"
    __table_args__ = (tenant_key("requested_by_id", "users"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int] = mapped_column()
    #: queued -> running -> ready | failed
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    file_key: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str | None] = mapped_column(String(200))
    content_type: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The download link stops working after this (the file is personnel data).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
