"""Every migration runs up and down on SQLite, the ``make run`` default."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from app import create_app
from app.extensions import db
from app.models.base import compared_on


def test_migrations_run_up_down_and_up_again_on_sqlite(tmp_path):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.db'}"})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())


def _differences(conn) -> list:
    """What autogenerate would write for this database: empty when models = migrations."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    options = {"include_object": compared_on(conn.dialect.name)}
    return compare_metadata(MigrationContext.configure(conn, opts=options), db.metadata)


def test_the_models_and_the_migrations_agree(tmp_path):
    """A model change without its migration would fail here (autogenerate finds a diff)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.db'}"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = _differences(conn)
    assert diff == []


def test_the_models_and_the_migrations_agree_on_postgresql(app, owner_engine):
    """The same on the database the product runs on (keys, constraints and indexes the
    migrations make there by hand included)."""
    with app.app_context(), owner_engine.connect() as conn:
        diff = _differences(conn)
    assert diff == []
