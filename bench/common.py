"""What the database benchmarks share: a scratch database, production-like Django settings, percentiles."""

from __future__ import annotations

import os
import tempfile


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def setup_database(name: str, reuse: bool = False) -> str:
    """Points DATABASE_URL at a fresh scratch database: on PostgreSQL <db>_bench_<name> (dropped and created
    again; drop_scratch_database removes it), else a new SQLite file. Returns the engine's name. With `reuse`, a
    PostgreSQL scratch database left by an earlier run (--keep) is used as it is."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        base, _, db = url.rpartition("/")
        scratch = f"{db}_bench_{name}"
        with psycopg.connect(url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [scratch]).fetchone()
            if not (reuse and exists):
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
                conn.execute(f'CREATE DATABASE "{scratch}"')
        os.environ["JIANGUAN_BENCH_ADMIN_URL"] = url
        os.environ["DATABASE_URL"] = f"{base}/{scratch}"
        return "PostgreSQL"
    tmp = tempfile.mkdtemp(prefix="jianguan-bench-")
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("JIANGUAN_VAR_DIR", tmp)
    return "SQLite"


def setup_django(**env: str) -> None:
    """Production-like settings (DEBUG off: its query log alone costs ~10 %) with a throw-away key."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jianguan.settings")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "x" * 40)
    os.environ.setdefault("LEDGER_GENERATE_KEY", "1")
    os.environ.setdefault("JIANGUAN_VAR_DIR", tempfile.mkdtemp(prefix="jianguan-bench-"))
    for key, value in env.items():
        os.environ.setdefault(key, value)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def drop_scratch_database() -> None:
    """Removes the PostgreSQL scratch database at the end of a run (SQLite files are left in /tmp)."""
    admin_url = os.environ.get("JIANGUAN_BENCH_ADMIN_URL")
    if not admin_url:
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    for conn in connections.all(initialized_only=True):
        getattr(conn, "close_pool", lambda: None)()  # pooled connections stay open after close()
    scratch = os.environ["DATABASE_URL"].rpartition("/")[2]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
