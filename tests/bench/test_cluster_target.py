"""``python -m bench --cluster``: the benchmark reaches the database as ``make cluster``'s
instances do (the roles through PgBouncer, reads on the replica), and a page's floor is
still replayed on a direct connection (PgBouncer 1.18 cannot carry prepared statements)."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from bench import cluster
from bench.db import bench_app, cluster_urls, urls


def test_the_cluster_target_goes_through_the_pooler_and_reads_the_replica(monkeypatch):
    monkeypatch.setenv("BENCH_CLUSTER", "1")
    target = urls()
    assert target == cluster_urls()
    owner, app, platform = (make_url(u) for u in (target.owner, target.app, target.platform))
    assert (owner.port, owner.database) == (cluster.PRIMARY_PORT, cluster.DATABASE)
    assert (app.port, app.username) == (cluster.POOLER_PORT, cluster.APP_ROLE)
    assert (platform.port, platform.username) == (cluster.POOLER_PORT, cluster.PLATFORM_ROLE)
    settings = dict(target.settings)
    assert make_url(settings["REPLICA_DATABASE_URL"]).port == cluster.REPLICA_PORT
    assert target.web == tuple(f"http://127.0.0.1:{port}" for port in cluster.WEB_PORTS)

    # The processes it starts get the same settings; its own app too.
    environment = target.environment()
    assert environment["DATABASE_URL"] == target.app
    assert environment["DATABASE_TRANSACTION_POOLER"] == "1"
    flask_app = bench_app(target)
    assert flask_app.config["SQLALCHEMY_BINDS"]["replica"]["url"].endswith(
        f":{cluster.REPLICA_PORT}/{cluster.DATABASE}"
    )
    options = flask_app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert options["prepare_threshold"] is None

    # The floor's replay goes past the pooler to the primary, as the same role.
    direct = make_url(target.direct(target.app))
    assert (direct.port, direct.username) == (cluster.PRIMARY_PORT, cluster.APP_ROLE)


def test_without_the_cluster_nothing_is_rerouted(monkeypatch):
    monkeypatch.delenv("BENCH_CLUSTER", raising=False)
    target = urls()
    assert target.web == () and target.settings == ()
    assert target.direct(target.app) == target.app
    assert "DATABASE_TRANSACTION_POOLER" not in target.environment()
