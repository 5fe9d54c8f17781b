"""Queries of the cart service (plain SQL; the pool's search path is the cart schema)."""
from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.cart.domain import Cart, CartStatus

Conn = asyncpg.Connection | asyncpg.Pool


def as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def cart_of(row: asyncpg.Record, item_count: int = 0) -> Cart:
    return Cart(id=str(row["id"]), account_id=row["account_id"], status=CartStatus(row["status"]),
                checkout_id=row["checkout_id"], item_count=item_count)


# ------------------------------------------------------------------------------ carts


async def insert_cart(conn: Conn, cart_id: uuid.UUID, account_id: str) -> asyncpg.Record:
    return await conn.fetchrow(
        "INSERT INTO carts (id, account_id) VALUES ($1, $2) RETURNING *", cart_id, account_id)


async def get_cart(conn: Conn, cart_id: str, account_id: str | None = None) -> asyncpg.Record | None:
    ident = as_uuid(cart_id)
    if ident is None:
        return None
    row = await conn.fetchrow("SELECT * FROM carts WHERE id = $1", ident)
    if row is None or (account_id is not None and row["account_id"] != account_id):
        return None
    return row


async def lock_cart(conn: asyncpg.Connection, cart_id: str) -> asyncpg.Record | None:
    """The cart row, locked for the rest of the transaction (every mutation takes this first)."""
    ident = as_uuid(cart_id)
    if ident is None:
        return None
    return await conn.fetchrow("SELECT * FROM carts WHERE id = $1 FOR UPDATE", ident)


async def set_state(conn: asyncpg.Connection, cart: Cart) -> None:
    await conn.execute(
        "UPDATE carts SET status = $2, checkout_id = $3, version = version + 1, updated_at = now() WHERE id = $1",
        uuid.UUID(cart.id), cart.status.value, cart.checkout_id)


async def touch(conn: asyncpg.Connection, cart_id: str) -> asyncpg.Record:
    return await conn.fetchrow(
        "UPDATE carts SET version = version + 1, updated_at = now() WHERE id = $1 RETURNING *", uuid.UUID(cart_id))


async def list_carts(conn: Conn, account_id: str, status: str | None = None, limit: int = 100) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT c.*, (SELECT count(*) FROM cart_items i WHERE i.cart_id = c.id) AS item_count
        FROM carts c WHERE c.account_id = $1 AND ($2::text IS NULL OR c.status = $2)
        ORDER BY c.created_at DESC, c.id LIMIT $3
        """, account_id, status, limit)


# ------------------------------------------------------------------------------ items


async def items_of(conn: Conn, cart_id: str) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM cart_items WHERE cart_id = $1 ORDER BY position, created_at",
                            uuid.UUID(cart_id))


async def count_items(conn: Conn, cart_id: str) -> int:
    return await conn.fetchval("SELECT count(*) FROM cart_items WHERE cart_id = $1", uuid.UUID(cart_id))


async def get_item(conn: Conn, cart_id: str, item_id: str) -> asyncpg.Record | None:
    ident = as_uuid(item_id)
    if ident is None:
        return None
    return await conn.fetchrow("SELECT * FROM cart_items WHERE id = $1 AND cart_id = $2", ident, uuid.UUID(cart_id))


async def insert_item(conn: asyncpg.Connection, cart_id: str, item_id: uuid.UUID, payload: dict[str, Any],
                      mode: str, facts: dict[str, Any]) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO cart_items (id, cart_id, position, payload, mode, facts)
        VALUES ($1, $2, (SELECT coalesce(max(position), 0) + 1 FROM cart_items WHERE cart_id = $2), $3, $4, $5)
        RETURNING *
        """, item_id, uuid.UUID(cart_id), payload, mode, facts)


async def update_item(conn: asyncpg.Connection, item_id: uuid.UUID, payload: dict[str, Any], mode: str,
                      facts: dict[str, Any]) -> asyncpg.Record:
    return await conn.fetchrow(
        "UPDATE cart_items SET payload = $2, mode = $3, facts = $4, updated_at = now() WHERE id = $1 RETURNING *",
        item_id, payload, mode, facts)


async def delete_item(conn: asyncpg.Connection, item_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM cart_items WHERE id = $1", item_id)

