"""All SQL of the checkout service (plain queries, one function per need): checkouts, accounts and
their credit ledger, orders with their history and monthly charges, the renewal pass, the overlay."""
from __future__ import annotations

import uuid
import zlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

RUNNING_STEPS = "('freezing', 'reserving', 'pricing')"

# ------------------------------------------------------------------------------ checkouts


async def insert_checkout(conn: asyncpg.Connection, checkout_id: uuid.UUID, account: str, cart_id: str,
                          accepted_total: Decimal, deadline_seconds: float) -> asyncpg.Record:
    """A new checkout in its first step (freezing), its deadline `deadline_seconds` from now."""
    return await conn.fetchrow(
        "INSERT INTO checkouts (id, account_id, cart_id, accepted_total, step, step_deadline)"
        " VALUES ($1, $2, $3, $4, 'freezing', now() + make_interval(secs => $5)) RETURNING *",
        checkout_id, account, cart_id, accepted_total, deadline_seconds)


async def get_checkout(pool: asyncpg.Pool, checkout_id: uuid.UUID, account: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM checkouts WHERE id = $1 AND account_id = $2", checkout_id, account)


async def lock_checkout(conn: asyncpg.Connection, checkout_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM checkouts WHERE id = $1::uuid FOR UPDATE", checkout_id)


async def lock_expired(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Running checkouts whose step deadline has passed, locked (others' locked rows skipped)."""
    return await conn.fetch(
        f"SELECT * FROM checkouts WHERE step IN {RUNNING_STEPS}"
        " AND step_deadline < now() ORDER BY step_deadline LIMIT $1 FOR UPDATE SKIP LOCKED", limit)


async def hold_deadlines(conn: asyncpg.Connection, seconds: float) -> int:
    """Push every running step's deadline to at least `seconds` from now; returns how many moved."""
    status = await conn.execute(
        "UPDATE checkouts SET step_deadline = now() + make_interval(secs => $1::float8)"
        f" WHERE step IN {RUNNING_STEPS}"
        " AND step_deadline < now() + make_interval(secs => $1::float8)", seconds)
    return int(status.split()[-1])


async def set_step(conn: asyncpg.Connection, checkout_id: uuid.UUID, step: str, deadline_seconds: float | None,
                   **fields: Any) -> None:
    sets = ["step = $2", "updated_at = now()",
            "step_deadline = CASE WHEN $3::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $3::float8) END"]
    args: list[Any] = [checkout_id, step, deadline_seconds]
    for name, value in fields.items():
        args.append(value)
        sets.append(f"{name} = ${len(args)}")
    await conn.execute(f"UPDATE checkouts SET {', '.join(sets)} WHERE id = $1::uuid", *args)


# ------------------------------------------------------------------------------ accounts and credit


async def lock_account(conn: asyncpg.Connection, account_id: str) -> asyncpg.Record:
    """The account row, created on first use, locked for the rest of the transaction."""
    await conn.execute("INSERT INTO accounts (account_id) VALUES ($1) ON CONFLICT DO NOTHING", account_id)
    return await conn.fetchrow("SELECT * FROM accounts WHERE account_id = $1 FOR UPDATE", account_id)


async def get_account(conn: asyncpg.Connection, account_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM accounts WHERE account_id = $1", account_id)


async def credit_ledger(conn: asyncpg.Connection, account_id: str) -> list[asyncpg.Record]:
    """The account's ledger rows, oldest first."""
    return await conn.fetch(
        "SELECT amount, kind, ref, created_at FROM credit_ledger WHERE account_id = $1 ORDER BY id", account_id)


async def set_overdraft_limit(conn: asyncpg.Connection, account_id: str, limit: Decimal) -> None:
    await conn.execute("UPDATE accounts SET overdraft_limit = $2 WHERE account_id = $1", account_id, limit)


async def set_skip_review(conn: asyncpg.Connection, account_id: str, skip_review: bool) -> None:
    await conn.execute("UPDATE accounts SET skip_review = $2 WHERE account_id = $1", account_id, skip_review)


async def post_credit(conn: asyncpg.Connection, account_id: str, amount: Decimal, kind: str, ref: str) -> bool:
    """Add a ledger row and move the balance by it; False (and no change) if (kind, ref) was posted."""
    inserted = await conn.fetchval(
        "INSERT INTO credit_ledger (account_id, amount, kind, ref) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING true", account_id, amount, kind, ref)
    if inserted:
        await conn.execute("UPDATE accounts SET balance = balance + $2, updated_at = now() WHERE account_id = $1",
                           account_id, amount)
    return bool(inserted)


# ------------------------------------------------------------------------------ orders


async def insert_order(conn: asyncpg.Connection, o: dict[str, Any]) -> None:
    await conn.execute(
        """INSERT INTO orders (id, account_id, checkout_id, item_id, item, mode, model, constellations, status,
               recurring, from_date, to_date, amount, price, spend, parts, cells, footprint, bbox, h3_cells)
           VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
           ON CONFLICT (checkout_id, item_id) DO NOTHING""",
        o["id"], o["account_id"], o["checkout_id"], o["item_id"], o["item"], o["mode"], o["model"],
        o["constellations"], o["status"], o["recurring"], o["from_date"], o["to_date"], o["amount"], o["price"],
        o["spend"], o["parts"], o["cells"], o["footprint"], o["bbox"], o["h3_cells"])


async def add_history(conn: asyncpg.Connection, order_id: uuid.UUID, from_status: str | None, to_status: str,
                      source: str, detail: str | None = None, at: datetime | None = None) -> None:
    await conn.execute(
        "INSERT INTO order_history (order_id, from_status, to_status, at, source, detail)"
        " VALUES ($1, $2, $3, coalesce($4, now()), $5, $6)", order_id, from_status, to_status, at, source, detail)


async def list_orders(pool: asyncpg.Pool, account: str, statuses: list[str] | None, model: str | None,
                      limit: int) -> list[asyncpg.Record]:
    """The account's orders, newest first, of these statuses and model (None: any)."""
    return await pool.fetch(
        "SELECT * FROM orders WHERE account_id = $1 AND ($2::text[] IS NULL OR status = ANY($2))"
        " AND ($3::text IS NULL OR model = $3) ORDER BY created_at DESC LIMIT $4",
        account, statuses, model, limit)


async def get_order(pool: asyncpg.Pool, order_id: uuid.UUID, account: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM orders WHERE id = $1 AND account_id = $2", order_id, account)


async def order_history(pool: asyncpg.Pool, order_id: uuid.UUID) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT * FROM order_history WHERE order_id = $1 ORDER BY id", order_id)


async def order_charges(pool: asyncpg.Pool, order_id: uuid.UUID) -> list[asyncpg.Record]:
    return await pool.fetch("SELECT month, amount, status FROM order_charges WHERE order_id = $1 ORDER BY month",
                            order_id)


async def lock_order(conn: asyncpg.Connection, order_id: uuid.UUID,
                     account: str | None = None) -> asyncpg.Record | None:
    """The order, locked for the rest of the transaction; with `account`, only when that account owns it."""
    if account is None:
        return await conn.fetchrow("SELECT * FROM orders WHERE id = $1 FOR UPDATE", order_id)
    return await conn.fetchrow("SELECT * FROM orders WHERE id = $1 AND account_id = $2 FOR UPDATE", order_id,
                               account)


async def set_order_status(conn: asyncpg.Connection, order_id: uuid.UUID, status: str) -> None:
    await conn.execute("UPDATE orders SET status = $2, updated_at = now() WHERE id = $1", order_id, status)


async def stop_renewals(conn: asyncpg.Connection, order_id: uuid.UUID, last_month: str) -> None:
    await conn.execute("UPDATE orders SET renewal_stopped_after = $2, updated_at = now() WHERE id = $1",
                       order_id, last_month)


async def charged_amounts(conn: asyncpg.Connection, order_id: uuid.UUID) -> list[Decimal]:
    """What was charged for the order (checkout month and renewals), not refunded yet."""
    rows = await conn.fetch("SELECT month, amount FROM order_charges WHERE order_id = $1 AND status = 'charged'",
                            order_id)
    return [Decimal(r["amount"]) for r in rows]


async def charge_details(conn: asyncpg.Connection, order_id: uuid.UUID) -> list[dict[str, Any]]:
    """The priced replies stored with the order's renewal charges (their spend lines among them)."""
    rows = await conn.fetch("SELECT detail FROM order_charges WHERE order_id = $1 AND detail IS NOT NULL", order_id)
    return [r["detail"] for r in rows]


async def mark_canceled(conn: asyncpg.Connection, order_id: uuid.UUID) -> None:
    """The order canceled and every charge of it refunded."""
    await conn.execute("UPDATE orders SET status = 'Canceled', updated_at = now() WHERE id = $1", order_id)
    await conn.execute("UPDATE order_charges SET status = 'refunded' WHERE order_id = $1", order_id)


async def add_checkout_charge(conn: asyncpg.Connection, order_id: uuid.UUID, month: str, amount: Decimal) -> None:
    """What was paid at checkout, charged in the checkout's month (renewals add later months)."""
    await conn.execute("INSERT INTO order_charges (order_id, month, amount, status)"
                       " VALUES ($1, $2, $3, 'charged') ON CONFLICT DO NOTHING", order_id, month, amount)


# ------------------------------------------------------------------------------ renewals

RENEWAL_LOCK = zlib.crc32(b"checkout:renewals") & 0x7FFFFFFF
RETRY_PENDING_AFTER = "10 minutes"  # a renewal whose replies never came is started again
RETRY_UNPAID_AFTER = "1 hour"  # an unpaid renewal is tried again (after a top-up it goes through)


async def try_renewal_lock(conn: asyncpg.Connection) -> bool:
    """Take the session lock that makes a renewal pass single-active across instances; False if held."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", RENEWAL_LOCK))


async def release_renewal_lock(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", RENEWAL_LOCK)


async def due_renewals(conn: asyncpg.Connection, month: str) -> list[asyncpg.Record]:
    """The recurring orders to renew for `month`: running, not stopped before it, started by then, and
    not paid for it (nor a later month), nor waiting for its replies, nor recently refused."""
    return await conn.fetch(
        f"""SELECT o.* FROM orders o
           WHERE o.recurring AND o.status NOT IN ('Canceled', 'Completed')
             AND (o.renewal_stopped_after IS NULL OR o.renewal_stopped_after >= $1)
             AND to_char(o.from_date, 'YYYY-MM') <= $1
             -- not for a month already paid: its own row, or a later one (checkout pays all earlier dates)
             AND NOT EXISTS (SELECT 1 FROM order_charges c WHERE c.order_id = o.id AND c.month > $1)
             AND NOT EXISTS (SELECT 1 FROM order_charges c WHERE c.order_id = o.id AND c.month = $1
                             AND (c.status IN ('charged', 'refunded')
                                  OR (c.status = 'pending' AND c.at > now() - interval '{RETRY_PENDING_AFTER}')
                                  OR (c.status = 'unpaid'
                                      AND c.at > now() - interval '{RETRY_UNPAID_AFTER}')))""",
        month)


async def start_charge(conn: asyncpg.Connection, order_id: uuid.UUID, month: str) -> int:
    """The month's charge row pending again, under a new attempt; returns the attempt."""
    attempt: int = await conn.fetchval(
        "INSERT INTO order_charges (order_id, month, amount, status) VALUES ($1, $2, 0, 'pending')"
        " ON CONFLICT (order_id, month) DO UPDATE SET status = 'pending', at = now(),"
        " attempt = order_charges.attempt + 1 RETURNING attempt", order_id, month)
    return attempt


async def lock_charge(conn: asyncpg.Connection, order_id: uuid.UUID, month: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM order_charges WHERE order_id = $1 AND month = $2 FOR UPDATE",
                               order_id, month)


async def settle_charge(conn: asyncpg.Connection, order_id: uuid.UUID, month: str, status: str, amount: Decimal,
                        detail: dict[str, Any]) -> None:
    """The month's charge settled as 'charged' or 'unpaid', with its amount and detail."""
    await conn.execute("UPDATE order_charges SET status = $3, amount = $4, detail = $5 WHERE order_id = $1"
                       " AND month = $2", order_id, month, status, amount, detail)


async def set_renewal_paused(conn: asyncpg.Connection, order_id: uuid.UUID, reason: str | None) -> None:
    """Pause renewals with the reason, or (None) resume them."""
    await conn.execute("UPDATE orders SET renewal_paused = $2, updated_at = now() WHERE id = $1", order_id, reason)


# ------------------------------------------------------------------------------ overlay


async def overlay_candidates(pool: asyncpg.Pool, account_id: str, *, cells: list[str] | None,
                             bbox: tuple[float, float, float, float], model: str | None, statuses: list[str] | None,
                             date_from: date | None, date_to: date | None, within: bool, limit: int,
                             after: tuple[datetime, uuid.UUID] | None) -> list[asyncpg.Record]:
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
