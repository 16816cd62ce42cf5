"""The ledger migration: years already released before it become published, so final."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db

BEFORE = "c7d1e2f3a4b5"


def test_years_released_before_the_ledger_are_entered_as_published(tmp_path):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'l.db'}"})
    with app.app_context():
        upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO tenants (id, slug, name, status, primary_color, accent_color, "
                    "timezone, locale, created_at) VALUES (1, 'toledo', 'Toledo', 'active', "
                    "'#000000', '#ffffff', 'UTC', 'en', '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO network_memberships (tenant_id, member_key, named, "
                    "anonymous_label, noisy, epsilon_per_year, joined_at) VALUES (1, 'key-1', "
                    "1, 'District 1A2B', 0, 1.0, '2026-01-01 00:00:00')"
                )
            )
            for year, name in (("2023-2024", "Toledo"), ("2024-2025", "District 1A2B")):
                conn.execute(
                    text(
                        "INSERT INTO network_releases (member_key, display_name, size_band, "
                        "year, noisy, figures, minimum, created_at) VALUES ('key-1', :name, "
                        "'25-99', :year, 0, '{}', 10, '2026-02-01 00:00:00')"
                    ),
                    {"name": name, "year": year},
                )
            conn.execute(
                text(
                    "INSERT INTO privacy_spends (tenant_id, year, spent) "
                    "VALUES (1, '2024-2025', 0.5)"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT year, spent, published_at IS NOT NULL, named, member_key "
                    "FROM privacy_spends ORDER BY year"
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("2023-2024", 0.0, 1, 1, "key-1"),
            ("2024-2025", 0.5, 1, 0, "key-1"),
        ]
        downgrade(revision=BEFORE)
        db.engine.dispose()
