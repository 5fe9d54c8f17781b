"""The cart's transactions, called by its routes (api) and its saga effects (consumers).

Every mutation, HTTP or Kafka, locks the cart row first (``SELECT ... FOR UPDATE``), so an item
change and a freeze never interleave; the events it causes go to the outbox in the same transaction.

HTTP mutations run under the request's Idempotency-Key (``shared.idempotency``): peer calls first,
outside any transaction (``prepare``), then one transaction that also keeps the response to replay.
Saga effects run in the inbox's transaction (the connection they are given).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from fastapi.responses import Response

from services.cart import peers, store, views
from services.cart.domain import (
    CartLocked,
    CartStatus,
    FreezeRefusal,
    IllegalCartTransition,
    NotHeld,
    close,
    ensure_editable,
    freeze,
    kept_payload,
    merge_patch,
    parse_item,
    release,
    same_aoi,
    snapshot,
    stored_payload,
)
from services.cart.settings import CartSettings
from shared import idempotency
from shared.contracts.cart import (
    CartCheckedOut,
    CartFreezeRejected,
    CartFrozen,
    CartItemAdded,
    CartItemRemoved,
    CartItemUpdated,
    CartReleased,
    CloseCart,
    FreezeCart,
    ReleaseCart,
)
from shared.problems import Problem, not_found
from shared.service import Runtime
from shared.vocabulary import StoredOrderItem

log = logging.getLogger("tessera.cart")


@dataclass(frozen=True)
class Caller:
    """Who asks over HTTP: the account, their Authorization header (peers are asked as them), and the
    request's Idempotency-Key with its fingerprint (no key: the mutation is simply run)."""

    account: str
    authorization: str | None = None
    key: str | None = None
    fingerprint: str = ""


def _settings(rt: Runtime) -> CartSettings:
    return cast(CartSettings, rt.settings)


def _locked_problem(exc: CartLocked) -> Problem:
    return Problem(409, exc.code, exc.detail, checkout_id=exc.checkout_id)


async def _locked_cart(conn: asyncpg.Connection, cart_id: str, account: str) -> asyncpg.Record:
    """Lock the caller's cart row; 404 for a missing or foreign cart, 409 unless it is open."""
    row = await store.lock_cart(conn, cart_id)
    if row is None or row["account_id"] != account:
        raise not_found("cart", cart_id)
    try:
        ensure_editable(store.cart_of(row))
    except CartLocked as exc:
        raise _locked_problem(exc) from None
    return row


async def _readable_cart(rt: Runtime, cart_id: str, account: str, *, editable: bool = False) -> asyncpg.Record:
    row = await store.get_cart(rt.pool, cart_id, account)
    if row is None:
        raise not_found("cart", cart_id)
    if editable:
        try:
            ensure_editable(store.cart_of(row))
        except CartLocked as exc:
            raise _locked_problem(exc) from None
    return row


# ------------------------------------------------------------------------------ HTTP: reads


async def list_carts(rt: Runtime, account: str, status: CartStatus | None) -> dict[str, Any]:
    """The account's carts, newest first (no estimates)."""
    rows = await store.list_carts(rt.pool, account, status.value if status else None)
    return {"carts": [views.cart_view(r, item_count=r["item_count"]) for r in rows]}


async def cart_with_estimate(rt: Runtime, caller: Caller, cart_id: str) -> dict[str, Any]:
    """The cart, its items and pricing's live estimate of them (or the note saying why there is none)."""
    row = await _readable_cart(rt, cart_id, caller.account)
    items = await store.items_of(rt.pool, cart_id)
    priced = [{**i["payload"], "item_id": str(i["id"])} for i in items]
    estimate, note = await peers.live_estimate(rt, priced, caller.authorization)
    return views.cart_with_estimate(row, items, estimate, note)


# ------------------------------------------------------------------------------ HTTP: mutations


async def create_cart(rt: Runtime, caller: Caller) -> Response:
    """A new, empty, open cart of the caller's account."""

    async def apply(conn: asyncpg.Connection) -> idempotency.Outcome:
        row = await store.insert_cart(conn, uuid.uuid4(), caller.account)
        view = views.cart_view(row, [])
        return 201, view, {"Location": f"/v1/carts/{view['id']}"}

    return await idempotency.run(rt.pool, caller.account, caller.key, caller.fingerprint, apply)


async def add_item(rt: Runtime, caller: Caller, cart_id: str, body: Any) -> Response:
    """Add one item from its order-item payload (validated here, after a replay was ruled out): the
    AOI's facts are read from the AOI or tiling service first, then the item is kept."""
    payload: StoredOrderItem | None = None
    facts: dict[str, Any] = {}

    async def prepare() -> None:
        nonlocal payload, facts
        payload = parse_item(body)
        await _readable_cart(rt, cart_id, caller.account, editable=True)  # fail fast, before peer calls
        facts = await peers.facts_of(rt, payload, caller.authorization)

    async def apply(conn: asyncpg.Connection) -> idempotency.Outcome:
        assert payload is not None
        await _locked_cart(conn, cart_id, caller.account)
        most = _settings(rt).max_items_per_cart
        if await store.count_items(conn, cart_id) >= most:
            raise Problem(409, "cart_full", f"cart {cart_id} already holds {most} items, "
                          "the most one cart may hold; check it out or use another cart")
        stored = kept_payload(payload, facts)
        row = await store.insert_item(conn, cart_id, uuid.uuid4(), stored, payload.aoi_mode, facts)
        await store.touch(conn, cart_id)
        await rt.outbox.add(conn, CartItemAdded(cart_id=cart_id, account_id=caller.account,
                                                item_id=str(row["id"]), item=stored))
        view = views.item_view(row)
        return 201, view, {"Location": f"/v1/carts/{cart_id}/items/{view['id']}"}

    return await idempotency.run(rt.pool, caller.account, caller.key, caller.fingerprint, apply, prepare)


async def update_item(rt: Runtime, caller: Caller, cart_id: str, item_id: str, patch: dict[str, Any]) -> Response:
    """Change one item by a merge patch of its payload; the AOI's facts are read again only when
    the AOI changes. An item changed by another request meanwhile is a 409 (read it again)."""
    current: asyncpg.Record | None = None
    payload: StoredOrderItem | None = None
    stored: dict[str, Any] = {}
    facts: dict[str, Any] = {}

    async def prepare() -> None:
        nonlocal current, payload, stored, facts
        await _readable_cart(rt, cart_id, caller.account, editable=True)
        current = await store.get_item(rt.pool, cart_id, item_id)
        if current is None:
            raise not_found("item", item_id)
        payload = parse_item(merge_patch(current["payload"], patch))
        stored = stored_payload(payload)
        if same_aoi(stored, current["payload"]):
            facts = current["facts"]
        else:
            facts = await peers.facts_of(rt, payload, caller.authorization)
            stored = kept_payload(payload, facts)

    async def apply(conn: asyncpg.Connection) -> idempotency.Outcome:
        assert current is not None and payload is not None
        await _locked_cart(conn, cart_id, caller.account)
        now = await store.get_item(conn, cart_id, item_id)
        if now is None:
            raise not_found("item", item_id)
        if now["updated_at"] != current["updated_at"]:
            raise Problem(409, "item_changed_concurrently",
                          f"item {item_id} was changed by another request meanwhile; read it again and retry")
        row = await store.update_item(conn, now["id"], stored, payload.aoi_mode, facts)
        await store.touch(conn, cart_id)
        await rt.outbox.add(conn, CartItemUpdated(cart_id=cart_id, account_id=caller.account,
                                                  item_id=str(row["id"]), item=stored))
        return 200, views.item_view(row), {}

    return await idempotency.run(rt.pool, caller.account, caller.key, caller.fingerprint, apply, prepare)


async def remove_item(rt: Runtime, caller: Caller, cart_id: str, item_id: str) -> Response:
    async def apply(conn: asyncpg.Connection) -> idempotency.Outcome:
        await _locked_cart(conn, cart_id, caller.account)
        row = await store.get_item(conn, cart_id, item_id)
        if row is None:
            raise not_found("item", item_id)
        await store.delete_item(conn, row["id"])
        await store.touch(conn, cart_id)
        await rt.outbox.add(conn, CartItemRemoved(cart_id=cart_id, account_id=caller.account,
                                                  item_id=str(row["id"])))
        return 204, None, {}

    return await idempotency.run(rt.pool, caller.account, caller.key, caller.fingerprint, apply)


# ------------------------------------------------------------------------------ checkout saga


async def freeze_cart(rt: Runtime, conn: asyncpg.Connection, cmd: FreezeCart, correlation_id: str | None) -> None:
    """FreezeCart -> CartFrozen with a snapshot of every item, or CartFreezeRejected saying why.
    The same checkout again gets CartFrozen again (the command may be redelivered)."""

    async def reject(code: str, reason: str) -> None:
        log.info("freeze of cart %s by checkout %s rejected: %s", cmd.cart_id, cmd.checkout_id, reason)
        await rt.outbox.add(conn, CartFreezeRejected(cart_id=cmd.cart_id, account_id=cmd.account_id,
                                                     checkout_id=cmd.checkout_id, code=code, reason=reason),
                            correlation_id=correlation_id)

    row = await store.lock_cart(conn, cmd.cart_id)
    if row is None or row["account_id"] != cmd.account_id:
        await reject(FreezeRefusal.CART_NOT_FOUND, f"cart {cmd.cart_id} does not exist for account {cmd.account_id}")
        return
    cart = store.cart_of(row, await store.count_items(conn, cmd.cart_id))
    try:
        t = freeze(cart, cmd.checkout_id)
    except FreezeRefusal as refusal:
        await reject(refusal.code, refusal.reason)
        return
    if t.changed:
        await store.set_state(conn, t.cart)
    items = await store.items_of(conn, cmd.cart_id)
    snaps = [snapshot(str(i["id"]), i["payload"], i["mode"], i["facts"]) for i in items]
    await rt.outbox.add(conn, CartFrozen(cart_id=cmd.cart_id, account_id=cmd.account_id,
                                         checkout_id=cmd.checkout_id, items=snaps), correlation_id=correlation_id)


async def release_cart(rt: Runtime, conn: asyncpg.Connection, cmd: ReleaseCart, correlation_id: str | None) -> None:
    """ReleaseCart -> CartReleased. A release with nothing to release (no such cart, not held by this
    checkout) is logged and dropped; IllegalCartTransition when the cart can never be released."""
    row = await store.lock_cart(conn, cmd.cart_id)
    if row is None or row["account_id"] != cmd.account_id:
        log.info("release of cart %s by checkout %s: no such cart of account %s; nothing to release",
                 cmd.cart_id, cmd.checkout_id, cmd.account_id)
        return
    try:
        t = release(store.cart_of(row), cmd.checkout_id)
    except NotHeld as exc:
        log.info("release by checkout %s ignored: %s", cmd.checkout_id, exc)
        return
    if t.changed:
        await store.set_state(conn, t.cart)
    await rt.outbox.add(conn, CartReleased(cart_id=cmd.cart_id, account_id=cmd.account_id,
                                           checkout_id=cmd.checkout_id), correlation_id=correlation_id)


async def close_cart(rt: Runtime, conn: asyncpg.Connection, cmd: CloseCart, correlation_id: str | None) -> None:
    """CloseCart -> CartCheckedOut; IllegalCartTransition for a missing cart or one this checkout
    does not hold."""
    row = await store.lock_cart(conn, cmd.cart_id)
    if row is None or row["account_id"] != cmd.account_id:
        raise IllegalCartTransition(f"cart {cmd.cart_id} does not exist for account {cmd.account_id}")
    t = close(store.cart_of(row), cmd.checkout_id)
    if t.changed:
        await store.set_state(conn, t.cart)
    await rt.outbox.add(conn, CartCheckedOut(cart_id=cmd.cart_id, account_id=cmd.account_id,
                                             checkout_id=cmd.checkout_id), correlation_id=correlation_id)
