"""asyncpg queries of the aoi service (plain SQL; the pool's search_path is the aoi schema)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

_SUMMARY = ("id, account_id, name, source_format, area_km2, billable_km2, min_lon, min_lat, max_lon, "
            "max_lat, report -> 'totals' AS totals, created_at")
# the geometry as text: served as it is stored, never parsed into Python objects and dumped again
_FULL = "id, account_id, name, source_format, geometry::text AS geometry, report, created_at"
_INSERTED = "id, account_id, name, source_format, report, created_at"


async def insert(conn: asyncpg.Connection, row: dict[str, Any]) -> asyncpg.Record:
    """Insert a new AOI (``geometry`` as GeoJSON text). The row returned has no geometry: the caller
    has it. The table's idempotency_key and request_hash columns are left empty: Idempotency-Keys are
    kept by shared.idempotency."""
    return await conn.fetchrow(
        """
        INSERT INTO aois (id, account_id, name, source_format, geometry, wkb, report, area_km2, billable_km2,
                          min_lon, min_lat, max_lon, max_lat, h3_resolution, h3_cells)
        VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        RETURNING """ + _INSERTED,
        row["id"], row["account_id"], row["name"], row["source_format"], row["geometry"], row["wkb"],
        row["report"], row["area_km2"], row["billable_km2"], *row["bbox"], row["h3_resolution"],
        row["h3_cells"],
    )


async def get(conn: asyncpg.Connection | asyncpg.Pool, account_id: str, aoi_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_FULL} FROM aois WHERE id = $1 AND account_id = $2", aoi_id, account_id)


async def page(pool: asyncpg.Pool, account_id: str, limit: int,
               after: tuple[datetime, str] | None) -> list[asyncpg.Record]:
    """The account's AOIs, newest first, strictly after the cursor position (keyset pagination)."""
    if after is None:
        return await pool.fetch(
            f"SELECT {_SUMMARY} FROM aois WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            account_id, limit)
    return await pool.fetch(
        f"SELECT {_SUMMARY} FROM aois WHERE account_id = $1 AND (created_at, id) < ($2, $3)"
        " ORDER BY created_at DESC, id DESC LIMIT $4",
        account_id, after[0], after[1], limit)


async def overlap_candidates(pool: asyncpg.Pool, account_id: str, *, cells: list[str] | None,
                             bbox: tuple[float, float, float, float], limit: int,
                             after: tuple[datetime, str] | None) -> list[asyncpg.Record]:
    """Candidates of an overlap query, newest first: stored H3 cover && query cells (GIN index), or,
    for very large query areas, the bbox columns. The caller confirms each exactly (wkb)."""
    conds = ["account_id = $1"]
    args: list[Any] = [account_id]
    if cells is not None:
        args.append(cells)
        conds.append(f"h3_cells && ${len(args)}::text[]")
    else:
        w, s, e, n = bbox
        args += [w, s, e, n]
        k = len(args)
        conds.append(f"min_lon <= ${k - 1} AND max_lon >= ${k - 3} AND min_lat <= ${k} AND max_lat >= ${k - 2}")
    if after is not None:
        args += [after[0], after[1]]
        conds.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    return await pool.fetch(
        f"SELECT {_SUMMARY}, wkb FROM aois WHERE {' AND '.join(conds)}"
        f" ORDER BY created_at DESC, id DESC LIMIT ${len(args)}", *args)


async def count(pool: asyncpg.Pool, account_id: str) -> int:
    return await pool.fetchval("SELECT count(*) FROM aois WHERE account_id = $1", account_id)
