"""A CSV file kept between its preview and its import, so the import writes those bytes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import TenantScoped, UTCDateTime, tenant_key, utcnow


class ImportUpload(TenantScoped, db.Model):
    """One previewed, error-free upload, waiting for its person to apply it.

    The file lives in the upload store under ``file_key`` (the row names it, so no file is
    kept that nothing names); ``sha256`` is checked again when it is applied. The random
    ``token`` is what the page posts back; the row is found only in its own district (the
    tenant layer) and applied only by ``user_id``. ``expected`` holds the counts the
    preview showed: an import that would now write something else is refused.
    """

    __tablename__ = "import_uploads"
    __table_args__ = (
        tenant_key("user_id", "users", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(index=True)
    #: "cases" or "survey_responses"
    kind: Mapped[str] = mapped_column(String(40))
    #: What the import is run with besides the file (a survey's key, year and count sent).
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    expected: Mapped[dict] = mapped_column(JSON, default=dict)
    file_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
