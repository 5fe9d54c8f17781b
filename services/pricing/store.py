"""Queries of the pricing service (plain SQL; the pool's search path is the pricing schema)."""
from __future__ import annotations

import uuid
import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.pricing.domain import Month
from shared.catalog import ModelFamily

Conn = asyncpg.Connection | asyncpg.Pool


# ------------------------------------------------------------------------------ locks


async def lock_account(conn: asyncpg.Connection, account_id: str) -> None:
    """Per-account lock on the spend ledger for the rest of the transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK_SPACE, _int32(account_id))


_LOCK_SPACE = zlib.crc32(b"pricing.spend") & 0x7FFFFFFF


def _int32(text: str) -> int:
    value = zlib.crc32(text.encode())
    return value - (1 << 32) if value >= 1 << 31 else value


# ------------------------------------------------------------------------------ quotes


async def insert_quote(
    conn: Conn,
    *,
    quote_id: uuid.UUID,
    account_id: str,
    request_json: str,
    response_json: str,
    total: Decimal,
    due_at_checkout: Decimal,
    price_book_version: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO quotes (quote_id, account_id, request, response, total, due_at_checkout,
                            price_book_version, created_at, expires_at)
        VALUES ($1, $2, $3::text::json, $4::text::json, $5, $6, $7, $8, $9)
        """,
        quote_id, account_id, request_json, response_json, total, due_at_checkout, price_book_version,
        created_at, expires_at,
    )


async def purge_quotes(conn: Conn, expired_before: datetime, batch: int) -> int:
    """Delete up to ``batch`` quotes that expired before ``expired_before``; returns how many."""
    status = await conn.execute(
        """
        DELETE FROM quotes WHERE quote_id IN (
            SELECT quote_id FROM quotes WHERE expires_at < $1 ORDER BY expires_at LIMIT $2)
        """,
        expired_before, batch,
    )
    return int(status.rpartition(" ")[2])


async def get_quote(conn: Conn, quote_id: uuid.UUID, account_id: str) -> asyncpg.Record | None:
    """The account's quote, or None (also for another account's: they must not learn it exists)."""
    return await conn.fetchrow(
        "SELECT * FROM quotes WHERE quote_id = $1 AND account_id = $2", quote_id, account_id
    )


# ------------------------------------------------------------------------------ spend ledger


async def month_spend(
    conn: Conn, account_id: str, months: Iterable[Month]
) -> dict[tuple[Month, ModelFamily], Decimal]:
    """The account's spend so far per (month, family) (0 when absent): confirmed spend (charges minus
    reversals) plus the provisional spend of checkouts priced but not yet settled by their order event."""
    keys = sorted({str(m) for m in months})
    rows = await conn.fetch(
        """
        SELECT month, family, sum(amount) AS amount FROM (
            SELECT month, family, amount FROM spend_charges WHERE account_id = $1 AND month = ANY($2::text[])
            UNION ALL
            SELECT month, family, -amount FROM spend_reversals WHERE account_id = $1 AND month = ANY($2::text[])
            UNION ALL
            SELECT month, family, amount FROM spend_provisional WHERE account_id = $1 AND month = ANY($2::text[])
        ) s GROUP BY month, family
        """,
        account_id, keys,
    )
    spend = {(Month.parse(m), f): Decimal(0) for m in keys for f in ModelFamily}
    for r in rows:
        spend[(Month.parse(r["month"]), ModelFamily(r["family"]))] = Decimal(r["amount"])
    return spend


async def record_charge(
    conn: asyncpg.Connection, *, order_id: str, account_id: str, month: str, family: str,
    amount: Decimal, kind: str, event_id: uuid.UUID,
) -> asyncpg.Record | None:
    """Insert a charge once; returns the existing row when (order, month, family) is already known."""
    inserted = await conn.fetchval(
        """
        INSERT INTO spend_charges (order_id, month, family, account_id, amount, kind, event_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING true
        """,
        order_id, month, family, account_id, amount, kind, event_id,
    )
    if inserted:
        return None
    return await conn.fetchrow(
        "SELECT * FROM spend_charges WHERE order_id = $1 AND month = $2 AND family = $3", order_id, month, family
    )


async def record_reversal(
    conn: asyncpg.Connection, *, order_id: str, account_id: str, month: str, family: str,
    amount: Decimal, event_id: uuid.UUID,
) -> asyncpg.Record | None:
    """Insert a reversal once; returns the existing row when (order, month, family) is already known."""
    inserted = await conn.fetchval(
        """
        INSERT INTO spend_reversals (order_id, month, family, account_id, amount, event_id)
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true
        """,
        order_id, month, family, account_id, amount, event_id,
    )
    if inserted:
        return None
    return await conn.fetchrow(
        "SELECT * FROM spend_reversals WHERE order_id = $1 AND month = $2 AND family = $3", order_id, month, family
    )


# ------------------------------------------------------------------------------ provisional spend


async def insert_provisional(
    conn: asyncpg.Connection, *, account_id: str, checkout_id: str, settled_ids: Iterable[str],
    rows: Iterable[tuple[str, str, str, Decimal]],
) -> int:
    """Insert provisional spend rows (item_id, month, family, amount) of a freshly priced checkout, except
    for items already settled (a tombstone for one of ``settled_ids`` with that item or the whole checkout '').
    Returns how many rows were inserted."""
    ids = sorted(set(settled_ids))
    inserted = 0
    for item_id, month, family, amount in rows:
        done = await conn.fetchval(
            """
            INSERT INTO spend_provisional (account_id, checkout_id, item_id, month, family, amount)
            SELECT $1, $2, $3, $4, $5, $6
            WHERE NOT EXISTS (SELECT 1 FROM spend_provisional_settled
                              WHERE checkout_id = ANY($7::text[]) AND item_id IN ('', $3))
            ON CONFLICT DO NOTHING RETURNING true
            """,
            account_id, checkout_id, item_id, month, family, amount, ids,
        )
        inserted += bool(done)
    return inserted


async def provisional_checkouts_like(conn: asyncpg.Connection, prefix: str) -> list[str]:
    """Checkout ids with provisional rows that are ``prefix`` or start with ``prefix + ':'``."""
    rows = await conn.fetch(
        "SELECT DISTINCT checkout_id FROM spend_provisional"
        " WHERE checkout_id = $1 OR starts_with(checkout_id, $1 || ':')",
        prefix,
    )
    return [r["checkout_id"] for r in rows]


async def settle_provisional(
    conn: asyncpg.Connection, *, checkout_ids: Iterable[str], tombstone: str, item_id: str | None
) -> int:
    """Drop the provisional rows of these checkouts (only ``item_id``'s when given) and leave a tombstone
    (``tombstone``, item_id or '') so that a PriceCheckout priced later adds none. Returns rows deleted."""
    ids = sorted(set(checkout_ids) | {tombstone})
    deleted = await conn.fetchval(
        """
        WITH d AS (DELETE FROM spend_provisional WHERE checkout_id = ANY($1::text[])
                   AND ($2::text IS NULL OR item_id = $2) RETURNING 1)
        SELECT count(*) FROM d
        """,
        ids, item_id,
    )
    await conn.execute(
        "INSERT INTO spend_provisional_settled (checkout_id, item_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        tombstone, item_id or "",
    )
    return deleted


# ------------------------------------------------------------------------------ checkout pricing


async def get_checkout_pricing(conn: Conn, checkout_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM checkout_pricings WHERE checkout_id = $1", checkout_id)


async def insert_checkout_pricing(
    conn: asyncpg.Connection, *, checkout_id: str, account_id: str, reply_type: str, reply: Mapping[str, Any]
) -> None:
    await conn.execute(
        "INSERT INTO checkout_pricings (checkout_id, account_id, reply_type, reply) VALUES ($1, $2, $3, $4)",
        checkout_id, account_id, reply_type, dict(reply),
    )
