"""Postgres: one asyncpg pool per service (its own schema first on the search path) and a migration runner.

Migrations are ordered `NNNN_name.sql` files: the shared ones (outbox, inbox) first, then the
service's own. They are applied at start inside one transaction under an advisory lock, so running
twice, or from two instances at once, applies each file exactly once.
"""
from __future__ import annotations

import json
import zlib
from pathlib import Path

import asyncpg

SHARED_MIGRATIONS = Path(__file__).parent / "migrations"


async def init_connection(conn: asyncpg.Connection) -> None:
    for typ in ("json", "jsonb"):
        await conn.set_type_codec(typ, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, schema: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """A pool whose connections resolve unqualified names in `schema` (then public)."""
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        server_settings={"search_path": f"{schema},public", "application_name": f"tessera-{schema}"},
    )


def migration_files(*dirs: Path) -> list[tuple[str, str]]:
    """(version, sql) pairs: shared first, each directory in file-name order; version = 'dir/file'."""
    files: list[tuple[str, str]] = []
    for d in dirs:
        for f in sorted(Path(d).glob("*.sql")):
            files.append((f"{Path(d).parent.name}/{f.name}", f.read_text()))
    return files


async def migrate(dsn: str, schema: str, service_migrations: Path | None) -> list[str]:
    """Create `schema` and apply pending migrations; returns the versions applied by this call."""
    dirs = [SHARED_MIGRATIONS] + ([service_migrations] if service_migrations else [])
    conn = await asyncpg.connect(dsn)
    applied: list[str] = []
    try:
        async with conn.transaction():
            # One lock per schema: concurrent starters wait, then find everything applied.
            await conn.execute("SELECT pg_advisory_xact_lock($1)", zlib.crc32(f"migrate:{schema}".encode()))
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            await conn.execute(f'SET LOCAL search_path TO "{schema}", public')
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for version, sql in migration_files(*dirs):
                if version in done:
                    continue
                await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations(version) VALUES ($1)", version)
                applied.append(version)
    finally:
        await conn.close()
    return applied
