"""The command line: districts, users, operators, the demo."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select

from app.extensions import db
from app.models.case import Case
from app.models.tenant import Tenant
from app.models.user import PlatformUser, User
from app.tenants.context import all_tenants


def _run(app, *args, input=None):
    with app.app_context():
        return CliRunner().invoke(app.cli, list(args), input=input)


def test_tenants_create_and_list(app):
    result = _run(
        app, "tenants", "create", "toledo", "--name", "Toledo Public Schools", "--preset", "toledo"
    )
    assert result.exit_code == 0, result.output
    assert "/t/toledo/" in result.output
    listing = _run(app, "tenants", "list")
    assert "toledo" in listing.output and "Toledo Public Schools" in listing.output


def test_tenants_create_rejects_a_bad_slug_with_a_reason(app):
    result = _run(app, "tenants", "create", "Bad Slug!", "--name", "X")
    assert result.exit_code == 1
    assert "slug: Use 2-63 lower-case letters" in result.output
    with app.app_context():
        assert db.session.execute(select(func.count(Tenant.id))).scalar() == 0


def test_users_create_with_several_roles_and_a_prompted_password(app, make_tenant):
    make_tenant("boston")
    result = _run(
        app,
        "users",
        "create",
        "--tenant",
        "boston",
        "--email",
        "ct@bps.example.org",
        "--name",
        "C T",
        "--role",
        "consulting_teacher",
        "--role",
        "panel_member",
        input="long enough pw\nlong enough pw\n",
    )
    assert result.exit_code == 0, result.output
    assert "consulting_teacher, panel_member" in result.output


def test_users_create_for_an_unknown_district_fails_clearly(app):
    result = _run(
        app,
        "users",
        "create",
        "--tenant",
        "nowhere",
        "--email",
        "a@b.org",
        "--name",
        "A",
        "--role",
        "teacher",
        "--password",
        "long enough pw",
    )
    assert result.exit_code == 1
    assert "no district with the short name 'nowhere'" in result.output


def test_create_operator(app):
    result = _run(
        app,
        "ops",
        "create-operator",
        "--email",
        "op@parley.example.org",
        "--password",
        "long enough pw",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.execute(select(PlatformUser.role)).scalar_one() == "operator"


def test_seed_demo_creates_three_districts_with_every_role_and_prints_logins(app):
    first = _run(app, "seed-demo")
    assert first.exit_code == 0, first.output
    assert "/t/boston/login" in first.output and "/t/rochester/login" in first.output
    assert "program.admin@boston.example.org" in first.output
    # Every seat of each panel can sign in, so a session can reach its quorum by hand.
    assert "panel6@boston.example.org" in first.output
    assert "panel12@rochester.example.org" in first.output
    again = _run(app, "seed-demo")
    assert again.exit_code == 0, again.output
    with app.app_context(), all_tenants():
        assert db.session.execute(select(func.count(Tenant.id))).scalar() == 3
        # Every role in each district, plus the colleagues that fill each panel's seats.
        demo_users = db.session.execute(
            select(func.count(User.id)).where(User.email.like("%.example.org"))
        ).scalar()
        panel_seats = 6 + 9 + 12  # Boston 3+3, Toledo 5+4, Rochester 6+6
        assert demo_users == 24 + panel_seats - 3
        closed = db.session.execute(
            select(func.count(Case.id)).where(Case.outcome.is_not(None))
        ).scalar()
        assert closed == 3  # one review case per district decided by its panel and approved
