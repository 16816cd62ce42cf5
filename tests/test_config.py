"""Settings: environment chooses, variables override, production refuses unsafe values."""

from __future__ import annotations

import pytest

from app import create_app
from config import ConfigurationError, load_settings


def test_development_defaults_to_sqlite_and_inline_jobs(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = load_settings("development")
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("instance/parley.sqlite3")
    assert settings["REDIS_URL"] is None


def test_environment_variables_override(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db:5432/parley")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    settings = load_settings("development")
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db:5432/parley"
    assert settings["MAIL_PORT"] == 2525
    assert settings["REDIS_URL"] == "redis://cache:6379/0"


def test_production_refuses_to_start_without_a_real_secret(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/parley")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app("production")
    monkeypatch.setenv("SECRET_KEY", "change-me")
    with pytest.raises(ConfigurationError, match="at least 32 characters"):
        load_settings("production")


def test_production_starts_with_a_real_secret(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/parley")
    monkeypatch.setenv("PLATFORM_DATABASE_URL", "postgresql://p@db/parley")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    settings = load_settings("production")
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_the_platform_role(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/parley")
    monkeypatch.delenv("PLATFORM_DATABASE_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    with pytest.raises(ConfigurationError, match="PLATFORM_DATABASE_URL"):
        load_settings("production")


def test_the_platform_role_is_a_second_bind_with_the_same_timeouts(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/parley")
    monkeypatch.setenv("PLATFORM_DATABASE_URL", "postgres://p@db/parley")
    settings = load_settings("development")
    platform = settings["SQLALCHEMY_BINDS"]["platform"]
    assert platform["url"] == "postgresql+psycopg://p@db/parley"
    assert platform["connect_args"] == settings["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert "pool_pre_ping" not in platform  # app.core.pooled checks every pool


def test_an_unknown_environment_name_is_refused():
    with pytest.raises(ConfigurationError, match="PARLEY_ENV"):
        load_settings("staging")


def test_healthz_reports_database_and_redis(migrated, redis_url):
    from tests.conftest import make_app

    app = make_app(migrated, REDIS_URL=redis_url)
    body = app.test_client().get("/healthz").json
    assert body == {"status": "ok", "down": [], "database": "ok", "redis": "ok"}
    down = make_app(migrated, REDIS_URL="redis://127.0.0.1:1/0")
    response = down.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"].startswith("error")
    assert response.json["down"] == ["redis"]
