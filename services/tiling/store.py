"""asyncpg queries of the tiling service: the coverage ledger (plain SQL).

Rows of ``coverage_groups`` are reservation groups: cells (bigint[] of CellId.key) sharing one date
bitmap. Everything that changes coverage runs under ``lock_account`` (a transaction-scoped
advisory lock per account), so reservations of one account are serialised across processes.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np

from services.tiling.domain import CoverageGroup, DateSet, LedgerKey


def constellation_key(constellations: Iterable[str]) -> str:
    """The stored form of a ledger key's constellation set: sorted, comma-joined."""
    return ",".join(sorted({str(c) for c in constellations}))


@dataclass(frozen=True)
class GroupRow:
    id: int
    checkout_id: str
    item_id: str
    order_id: str | None
    status: str
    model: str
    constellations: str
    cells: np.ndarray
    dates: DateSet

    @property
    def holding(self) -> str:
        return f"g{self.id}"


def _group(r: asyncpg.Record) -> GroupRow:
    return GroupRow(
        id=r["id"],
        checkout_id=r["checkout_id"],
        item_id=r["item_id"],
        order_id=r["order_id"],
        status=r["status"],
        model=r["model"],
        constellations=r["constellations"],
        cells=np.asarray(r["cells"], dtype=np.int64),
        dates=DateSet.from_bytes(r["date_start"], bytes(r["date_bits"])),
    )


_COLS = "id, checkout_id, item_id, order_id, status, model, constellations, cells, date_start, date_bits"


async def lock_account(conn: asyncpg.Connection, account_id: str) -> None:
    """Serialise every coverage change of one account until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('tiling.coverage/' || $1, 0))", account_id)


async def held_groups(conn: asyncpg.Connection, key: LedgerKey, families: Sequence[int] | None) -> list[GroupRow]:
    """Non-released groups of a ledger key; with ``families``, only those touching these tiles."""
    args: list[Any] = [key.account, key.model, constellation_key(key.constellations)]
    extra = ""
    if families is not None:
        args.append(list(families))
        extra = " AND families && $4::bigint[]"
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM coverage_groups WHERE account_id = $1 AND model = $2 AND constellations = $3"
        f" AND status <> 'released'{extra}",
        *args,
    )
    return [_group(r) for r in rows]


async def viewport_groups(
    conn: asyncpg.Connection, account_id: str, families: Sequence[int], model: str | None
) -> list[GroupRow]:
    args: list[Any] = [account_id, list(families)]
    extra = ""
    if model:
        args.append(model)
        extra = " AND model = $3"
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM coverage_groups WHERE account_id = $1 AND status <> 'released'"
        f" AND families && $2::bigint[]{extra} ORDER BY id",
        *args,
    )
    return [_group(r) for r in rows]


async def insert_group(
    conn: asyncpg.Connection, key: LedgerKey, checkout_id: str, item_id: str, group: CoverageGroup
) -> int:
    cells = np.unique(group.cells)
    families = np.unique(cells >> 9)
    return await conn.fetchval(
        "INSERT INTO coverage_groups (account_id, model, constellations, checkout_id, item_id, status, cells,"
        " families, date_start, date_bits, date_count)"
        " VALUES ($1, $2, $3, $4, $5, 'reserved', $6, $7, $8, $9, $10) RETURNING id",
        key.account,
        key.model,
        constellation_key(key.constellations),
        checkout_id,
        item_id,
        cells.tolist(),
        families.tolist(),
        group.dates.start,
        group.dates.to_bytes(),
        len(group.dates),
    )


async def checkout_groups(conn: asyncpg.Connection, account_id: str, checkout_id: str) -> list[GroupRow]:
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM coverage_groups WHERE account_id = $1 AND checkout_id = $2 ORDER BY id",
        account_id,
        checkout_id,
    )
    return [_group(r) for r in rows]


async def order_groups(conn: asyncpg.Connection, account_id: str, order_ids: Sequence[str]) -> list[GroupRow]:
    rows = await conn.fetch(
        f"SELECT {_COLS} FROM coverage_groups WHERE account_id = $1 AND order_id = ANY($2::text[]) ORDER BY id",
        account_id,
        list(order_ids),
    )
    return [_group(r) for r in rows]


async def set_status(conn: asyncpg.Connection, ids: Sequence[int], status: str, order_id: str | None = None) -> None:
    if not ids:
        return
    await conn.execute(
        "UPDATE coverage_groups SET status = $2, order_id = COALESCE($3, order_id), updated_at = now()"
        " WHERE id = ANY($1::bigint[])",
        list(ids),
        status,
        order_id,
    )


async def checkout_reply(conn: asyncpg.Connection, account_id: str, checkout_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT outcome, reply FROM coverage_checkouts WHERE account_id = $1 AND checkout_id = $2",
        account_id,
        checkout_id,
    )


async def record_checkout(
    conn: asyncpg.Connection, account_id: str, checkout_id: str, outcome: str, reply: dict[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO coverage_checkouts (account_id, checkout_id, outcome, reply) VALUES ($1, $2, $3, $4)",
        account_id,
        checkout_id,
        outcome,
        reply,
    )
