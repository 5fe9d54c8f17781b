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
