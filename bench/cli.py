"""``python -m bench.cli generate``: the generator on the configured PostgreSQL database.

The product never imports its benchmarks: this command builds the app from the same
settings as ``flask --app wsgi`` (``PARLEY_ENV``, ``DATABASE_URL``). The rows are written
with COPY as the schema owner (``MIGRATION_DATABASE_URL``), so the app's role and its
row-level security stay as they are.
"""

from __future__ import annotations

import sys

import click


@click.group("bench", help="Benchmark data (see docs/scaling.md; `make bench` runs it all).")
def bench_cli() -> None:
    pass


@bench_cli.command("generate")
@click.option("--districts", type=int, default=200, show_default=True)
@click.option("--cases-per-district", type=int, default=500, show_default=True)
@click.option("--years", type=int, default=5, show_default=True)
@click.option("--seed", type=int, default=2026, show_default=True)
def generate_command(districts: int, cases_per_district: int, years: int, seed: int) -> None:
    """Districts from the presets with years of history (existing districts are kept)."""
    import time

    from app import create_app
    from bench.db import Urls
    from bench.generate import Scale, generate, mark_relay_rows_done, network_specs

    app = create_app()
    app_url = app.config["SQLALCHEMY_DATABASE_URI"]
    owner_url = app.config.get("MIGRATION_DATABASE_URL") or app_url
    if not app_url.startswith("postgresql"):
        click.echo("error: the generator loads with COPY: set DATABASE_URL to PostgreSQL", err=True)
        sys.exit(1)
    target = Urls(owner=owner_url, app=app_url)
    scale = Scale(districts, cases_per_district, years, seed)
    began = time.perf_counter()
    with app.app_context():
        ids = generate(app, target, network_specs(scale), seed)
    mark_relay_rows_done(target)
    click.echo(
        f"{len(ids)} districts of {cases_per_district} cases over {years} years "
        f"in {time.perf_counter() - began:.0f} s"
    )


if __name__ == "__main__":
    bench_cli()
