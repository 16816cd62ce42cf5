"""Command-line tools: ``flask --app wsgi <group> <command>`` (see the README)."""

from __future__ import annotations

import getpass
import hashlib
import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.tenant import Tenant
from app.services.actors import Actor
from app.services.errors import ServiceError
from app.tenants.context import all_tenants, tenant_scope


def _fail(exc: ServiceError) -> None:
    for field, messages in exc.errors.items():
        for message in messages:
            click.echo(f"error: {field}: {message}", err=True)
    sys.exit(1)


def _tenant(slug: str) -> Tenant:
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        click.echo(f"error: no district with the short name '{slug}'", err=True)
        sys.exit(1)
    return tenant


@click.group("tenants", help="Create and list districts.")
def tenants_cli() -> None:
    pass


@tenants_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The district's name as the portal shows it.")
@click.option("--preset", default=None, help="Start the program from a preset configuration.")
@click.option("--primary-color", default="#1f4e79")
@click.option("--accent-color", default="#c8102e")
def tenants_create(
    slug: str, name: str, preset: str | None, primary_color: str, accent_color: str
) -> None:
    from app.services.provisioning import Branding, create_tenant

    try:
        with all_tenants():
            tenant = create_tenant(
                slug, name, preset=preset, branding=Branding(primary_color, accent_color)
            )
            uow.commit()
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Created {tenant.name} at /t/{tenant.slug}/")


@tenants_cli.command("list")
def tenants_list() -> None:
    for tenant in db.session.execute(select(Tenant).order_by(Tenant.slug)).scalars():
        click.echo(f"{tenant.slug:20} {tenant.status:10} {tenant.name}")


@click.group("users", help="Manage a district's users.")
def users_cli() -> None:
    pass


@users_cli.command("create")
@click.option("--tenant", "slug", required=True)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--school", default=None, help="The school the person works in.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def users_create(
    slug: str, email: str, name: str, roles: tuple[str, ...], school: str | None, password: str
) -> None:
    from app.services import users

    tenant = _tenant(slug)
    with tenant_scope(tenant.id):
        try:
            user = users.create_user(
                tenant.id,
                email=email,
                name=name,
                roles=list(roles),
                password=password,
                school=school,
            )
            uow.commit()
        except ServiceError as exc:
            _fail(exc)
        click.echo(f"Created {user.email} in {slug} with roles {', '.join(sorted(user.roles))}")


@users_cli.command("set-school")
@click.option("--tenant", "slug", required=True)
@click.option("--email", required=True)
@click.argument("school")
def users_set_school(slug: str, email: str, school: str) -> None:
    """The school a person works in ("" for none); a principal is linked to its cases."""
    from app.services import users

    tenant = _tenant(slug)
    with tenant_scope(tenant.id):
        user = users.by_email(email)
        if user is None:
            click.echo(f"error: no one in {slug} has the address {email}", err=True)
            sys.exit(1)
        try:
            users.set_school(user, school, Actor.system(f"command line ({getpass.getuser()})"))
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            _fail(exc)
        click.echo(f"{user.email} in {slug} works at {user.school or 'no school'}")


@click.group("ops", help="Platform accounts.")
def ops_cli() -> None:
    pass


@ops_cli.command("create-operator")
@click.option("--email", required=True)
@click.option("--name", default="Operator")
@click.option("--role", type=click.Choice(["operator", "network_analyst"]), default="operator")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_operator(email: str, name: str, role: str, password: str) -> None:
    from app.services import users

    try:
        user = users.create_platform_user(email, name, role, password)
        uow.commit()
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"Created {role} {user.email}; sign in at /ops/login")


@click.command("seed-demo", help="Create the demo districts and print their logins.")
def seed_demo() -> None:
    from app.services import demo, users

    with all_tenants():
        logins = demo.seed_demo()
        for email, name, role in (
            ("operator@parley.example.org", "Demo operator", "operator"),
            ("analyst@parley.example.org", "Demo analyst", "network_analyst"),
        ):
            try:
                users.create_platform_user(email, name, role, demo.DEMO_PASSWORD)
            except ServiceError:
                continue  # created by an earlier run
        uow.commit()
    demo.join_network()
    click.echo("Demo districts are ready. Every account's password: " + demo.DEMO_PASSWORD)
    current = None
    for login in logins:
        if login.tenant_slug != current:
            current = login.tenant_slug
            click.echo(f"\n  /t/{current}/login")
        click.echo(f"    {login.role:20} {login.email}")
    click.echo("\n  /ops/login")
    click.echo("    operator             operator@parley.example.org")
    click.echo("    network_analyst      analyst@parley.example.org\n")


@click.group("audit", help="The audit trail.")
def audit_cli() -> None:
    pass


@audit_cli.command("verify")
@click.option("--tenant", "slug", required=True)
def audit_verify(slug: str) -> None:
    from app.services.audit import verify_chain

    report = verify_chain(_tenant(slug).id)
    if report.ok:
        click.echo(f"ok: {report.checked} events, chain intact")
        return
    click.echo(
        f"BROKEN at event {report.broken_at}: {report.reason} "
        f"({report.checked} events verified before it)",
        err=True,
    )
    sys.exit(1)


@click.command("worker", help="Run an RQ worker (needs REDIS_URL).")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--queue",
    "queues",
    multiple=True,
    help="A queue to work (mail, exports, default); repeat for more. Every queue by default.",
)
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    from flask import current_app

    from app.jobs.worker import run_worker

    if not current_app.config.get("REDIS_URL"):
        click.echo("error: set REDIS_URL; without it jobs run inline in the web process", err=True)
        sys.exit(1)
    try:
        run_worker(current_app._get_current_object(), burst=burst, queue_names=queues)
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@click.command("scheduler", help="Run the periodic jobs (outbox sweep, reminders).")
def scheduler() -> None:
    from flask import current_app

    from app.jobs.periodic import run_scheduler

    run_scheduler(current_app._get_current_object())


@click.group("jobs", help="The outbox.")
def jobs_cli() -> None:
    pass


@jobs_cli.command("remind")
def jobs_remind() -> None:
    """Queue every reminder that is due now (the scheduler does this hourly): deadlines,
    status reports due and missed, appeal windows closing, and unanswered surveys."""
    from app.jobs.appeal_reminders import remind_due as remind_appeals
    from app.jobs.reminders import escalate_missed_reports, remind_due, remind_status_reports
    from app.services import surveys
    from app.tenants.context import all_tenants

    click.echo(f"queued {remind_due()} deadline reminders")
    click.echo(f"queued {remind_status_reports()} status report reminders")
    click.echo(f"queued {escalate_missed_reports()} missed status report notices")
    click.echo(f"queued {remind_appeals()} appeal window reminders")
    with all_tenants():
        count = surveys.remind_due()
    uow.commit()
    click.echo(f"queued {count} survey reminders")


@jobs_cli.command("sweep")
def jobs_sweep() -> None:
    from app.jobs.relay import sweep

    click.echo(f"relayed {sweep()} outbox messages")


@click.group("import", help="Bring a district's history in from CSV.")
def import_cli() -> None:
    pass


@import_cli.command("cases")
@click.option("--tenant", "slug", required=True)
@click.argument("file", type=click.File("rb"))
def import_cases(slug: str, file) -> None:
    """All or nothing: any bad row refuses the file, with every error by line and column."""
    from app.services import imports

    tenant = _tenant(slug)
    with tenant_scope(tenant.id):
        try:
            result = imports.import_cases(
                imports.read_upload(file.read()),
                Actor.system(f"import by {getpass.getuser()}"),
            )
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            _fail(exc)
    click.echo(f"Imported {result.created} new and {result.updated} updated cases into {slug}")


@import_cli.command("oneroster")
@click.option("--tenant", "slug", required=True)
@click.option(
    "--dry-run", is_flag=True, help="Check the bundle and say what it would change; write nothing."
)
@click.argument("file", type=click.File("rb"))
def import_oneroster(slug: str, dry_run: bool, file) -> None:
    """A OneRoster 1.2 bundle (zip): staff and schools, roles only through the district's
    mapping; all or nothing, every error by file, line and column (as on the imports page)."""
    from app.services import oneroster

    tenant = _tenant(slug)
    with tenant_scope(tenant.id):
        try:
            data = file.read()
            plan = oneroster.plan_upload(data)
            if dry_run:
                shown = plan.preview()
                uow.rollback()
                click.echo(
                    f"Would add {shown.created}, update {shown.updated}, disable "
                    f"{shown.disabled} and grant {shown.roles_granted} roles in {slug} "
                    f"({shown.unchanged} unchanged, {shown.not_imported} with no mapped role, "
                    f"{shown.ignored} students or guardians ignored); nothing written"
                )
                return
            actor = Actor.system(f"OneRoster import by {getpass.getuser()}")
            source = {"file": Path(file.name).name, "sha256": hashlib.sha256(data).hexdigest()}
            result = oneroster.write_bundle(plan, actor, source)
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            _fail(exc)
    click.echo(
        f"Added {result.created}, updated {result.updated}, disabled {result.disabled} and "
        f"granted {result.roles_granted} roles in {slug}"
    )


@import_cli.command("survey-responses")
@click.option("--tenant", "slug", required=True)
@click.option("--survey", "survey_key", required=True, help="A survey key of the configuration.")
@click.option("--year", required=True, help="The school year, e.g. 2009-2010.")
@click.option("--sent", type=int, required=True, help="How many questionnaires were sent.")
@click.argument("file", type=click.File("rb"))
def import_survey_responses(slug: str, survey_key: str, year: str, sent: int, file) -> None:
    """Answers collected before Parley: all or nothing; re-import updates by response_id."""
    from app.services import imports

    tenant = _tenant(slug)
    with tenant_scope(tenant.id):
        try:
            result = imports.import_survey_responses(
                survey_key,
                year,
                sent,
                imports.read_upload(file.read()),
                Actor.system(f"import by {getpass.getuser()}"),
            )
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            _fail(exc)
    click.echo(
        f"Imported {result.created} new and {result.updated} updated answers "
        f"for {survey_key} {year}"
    )


@click.group("signing", help="The district's document signing key.")
def signing_cli() -> None:
    pass


@signing_cli.command("rotate")
@click.argument("slug")
def signing_rotate(slug: str) -> None:
    """Retire the district's signing key and make a new one; old documents still verify."""
    from app.services import document_signing

    tenant = _tenant(slug)
    with tenant_scope(tenant.id):
        key = document_signing.rotate(Actor.system(f"command line ({getpass.getuser()})"))
        uow.commit()
        click.echo(f"{slug} now signs with the key {key.fingerprint}")


@click.group("network", help="The national network.")
def network_cli() -> None:
    pass


@network_cli.command("seed")
@click.option("--districts", type=int, default=200, help="How many synthetic districts.")
@click.option("--years", type=int, default=3)
def network_seed(districts: int, years: int) -> None:
    """Synthetic releases (suppressed like real ones) to try the comparisons at scale."""
    from app.services import network

    with all_tenants():
        made = network.seed_synthetic(districts, years)
        uow.commit()
    click.echo(f"Published {made} synthetic district-year releases")


def register_commands(app: Flask) -> None:
    for command in (
        tenants_cli,
        users_cli,
        ops_cli,
        seed_demo,
        audit_cli,
        worker,
        scheduler,
        jobs_cli,
        import_cli,
        signing_cli,
        network_cli,
    ):
        app.cli.add_command(command)
