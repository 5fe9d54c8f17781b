"""SQL of the checkout service (plain queries, one function per need)."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import asyncpg


async def lock_checkout(conn: asyncpg.Connection, checkout_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM checkouts WHERE id = $1::uuid FOR UPDATE", checkout_id)


async def lock_expired(conn, limit: int):
    """Running checkouts whose step deadline has passed, locked (others' locked rows skipped)."""
    return await conn.fetch(
        "SELECT * FROM checkouts WHERE step IN ('freezing', 'reserving', 'pricing')"
        " AND step_deadline < now() ORDER BY step_deadline LIMIT $1 FOR UPDATE SKIP LOCKED", limit)


async def hold_deadlines(conn, seconds: float) -> int:
    """Push every running step's deadline to at least `seconds` from now; returns how many moved."""
    status = await conn.execute(
        "UPDATE checkouts SET step_deadline = now() + make_interval(secs => $1::float8)"
        " WHERE step IN ('freezing', 'reserving', 'pricing')"
        " AND step_deadline < now() + make_interval(secs => $1::float8)", seconds)
    return int(status.split()[-1])


async def set_step(conn, checkout_id, step: str, deadline_seconds: float | None, **fields: Any) -> None:
    sets = ["step = $2", "updated_at = now()",
            "step_deadline = CASE WHEN $3::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $3::float8) END"]
    args: list[Any] = [checkout_id, step, deadline_seconds]
    for name, value in fields.items():
        args.append(value)
        sets.append(f"{name} = ${len(args)}")
    await conn.execute(f"UPDATE checkouts SET {', '.join(sets)} WHERE id = $1::uuid", *args)


async def lock_account(conn: asyncpg.Connection, account_id: str) -> asyncpg.Record:
    """The account row, created on first use, locked for the rest of the transaction."""
    await conn.execute("INSERT INTO accounts (account_id) VALUES ($1) ON CONFLICT DO NOTHING", account_id)
    return await conn.fetchrow("SELECT * FROM accounts WHERE account_id = $1 FOR UPDATE", account_id)


async def post_credit(conn, account_id: str, amount: Decimal, kind: str, ref: str) -> bool:
    """Add a ledger row and move the balance by it; False (and no change) if (kind, ref) was posted."""
    inserted = await conn.fetchval(
        "INSERT INTO credit_ledger (account_id, amount, kind, ref) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING true", account_id, amount, kind, ref)
    if inserted:
        await conn.execute("UPDATE accounts SET balance = balance + $2, updated_at = now() WHERE account_id = $1",
                           account_id, amount)
    return bool(inserted)


async def add_history(conn, order_id, from_status: str | None, to_status: str, source: str, detail: str | None = None,
                      at=None) -> None:
    await conn.execute(
        "INSERT INTO order_history (order_id, from_status, to_status, at, source, detail)"
        " VALUES ($1, $2, $3, coalesce($4, now()), $5, $6)", order_id, from_status, to_status, at, source, detail)


async def insert_order(conn, o: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO orders (id, account_id, checkout_id, item_id, item, mode, model, constellations, status,
               recurring, from_date, to_date, amount, price, spend, parts, cells, footprint, bbox, h3_cells)
           VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
           ON CONFLICT (checkout_id, item_id) DO NOTHING""",
        o["id"], o["account_id"], o["checkout_id"], o["item_id"], o["item"], o["mode"], o["model"],
        o["constellations"], o["status"], o["recurring"], o["from_date"], o["to_date"], o["amount"], o["price"],
        o["spend"], o["parts"], o["cells"], o["footprint"], o["bbox"], o["h3_cells"])


def checkout_view(row: asyncpg.Record) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(row["id"]),
        "cart_id": row["cart_id"],
        "status": {"completed": "completed", "failed": "failed"}.get(row["step"], "running"),
        "step": row["step"],
        "accepted_total": f"{row['accepted_total']:.2f}",
        "total": f"{row['total']:.2f}" if row["total"] is not None else None,
        "currency": "EUR",
        "order_ids": list(row["order_ids"]),
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }
    if row["failure_code"]:
        view["failure"] = {"code": row["failure_code"], "reason": row["failure_reason"],
                           **(row["failure_detail"] or {})}
    return view


def order_summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "status": row["status"],
        "model": row["model"],
        "mode": row["mode"],
        "constellations": list(row["constellations"]),
        "from": row["from_date"].isoformat(),
        "to": row["to_date"].isoformat() if row["to_date"] else None,
        "recurring": row["recurring"],
        "amount": f"{row['amount']:.2f}",
        "currency": "EUR",
        "checkout_id": str(row["checkout_id"]),
        "created_at": row["created_at"].isoformat(),
        "renewal_stopped_after": row["renewal_stopped_after"],
        "renewal_paused": row["renewal_paused"],
    }


async def overlay_candidates(pool, account_id: str, *, cells: list[str] | None, bbox: tuple[float, float, float, float],
                             model: str | None, statuses: list[str] | None, date_from, date_to, within: bool,
                             limit: int, after) -> list[asyncpg.Record]:
    """The overlay's candidates, newest first after the cursor: the account's orders with a footprint that
    pass every filter, pre-filtered by H3 cells (GIN index) or, for large viewports, by the bbox column
    (west > east crosses the antimeridian). The footprint comes back as text, for shapely and the response."""
    west, south, east, north = bbox
    args: list[Any] = [account_id, model, statuses, date_from, date_to, limit]
    conds = ["account_id = $1", "footprint IS NOT NULL", "($2::text IS NULL OR model = $2)",
             "($3::text[] IS NULL OR status = ANY($3))"]
    if within:
        conds.append("($4::date IS NULL OR from_date >= $4)"
                     " AND ($5::date IS NULL OR coalesce(to_date, 'infinity') <= $5)")
    else:
        conds.append("($5::date IS NULL OR from_date <= $5)"
                     " AND ($4::date IS NULL OR coalesce(to_date, 'infinity') >= $4)")
    if cells is not None:
        args.append(cells)
        conds.append(f"h3_cells && ${len(args)}::text[]")
    else:
        args += [west, south, east, north]
        w, s, e, n = (f"${len(args) - k}" for k in (3, 2, 1, 0))
        lon = f"bbox[1] <= {e} AND bbox[3] >= {w}" if west <= east else f"(bbox[1] <= {e} OR bbox[3] >= {w})"
        conds.append(f"{lon} AND bbox[2] <= {n} AND bbox[4] >= {s}")
    if after is not None:
        args += [after[0], after[1]]
        conds.append(f"(created_at, id) < (${len(args) - 1}, ${len(args)})")
    return await pool.fetch(
        "SELECT id, status, model, mode, constellations, from_date, to_date, recurring, amount, checkout_id,"
        " created_at, renewal_stopped_after, renewal_paused, footprint::text AS footprint FROM orders"
        f" WHERE {' AND '.join(conds)} ORDER BY created_at DESC, id DESC LIMIT $6", *args)
