"""HTTP routes and Kafka effects of the cart service: thin (parse, call the domain, persist, enqueue).

HTTP (every route authenticated; another account's cart is a 404):

- ``POST /v1/carts`` -> 201 cart; ``GET /v1/carts`` -> ``{"carts": [...]}``;
  ``GET /v1/carts/{id}`` -> the cart with its items and a live ``estimate`` from pricing (or
  ``estimate: null`` and ``estimate_note`` saying why).
- ``POST /v1/carts/{id}/items`` (an order-item payload) -> 201 item; ``PATCH .../items/{item}``
  (a JSON merge patch of the payload) -> 200 item; ``DELETE .../items/{item}`` -> 204.
- Mutations accept ``Idempotency-Key``: the same key (per account) with the same request replays the
  first response (header ``Idempotent-Replayed: true``); with a different request it is a 422.
- A frozen cart (checkout in progress) or a checked-out one refuses changes with a 409 naming the checkout.

Kafka (``cart.cart.commands`` through the inbox; replies and item events on ``cart.cart.events``
through the outbox, in the same transaction): FreezeCart -> CartFrozen | CartFreezeRejected,
ReleaseCart -> CartReleased, CloseCart -> CartCheckedOut. Every mutation, HTTP or Kafka, locks the
cart row first (``SELECT ... FOR UPDATE``), so an item change and a freeze never interleave.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import asyncpg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from services.cart import peers, store
from services.cart.domain import (
    CartLocked,
    CartStatus,
    FreezeRefusal,
    IllegalCartTransition,
    NotHeld,
    close,
    ensure_editable,
    freeze,
    merge_patch,
    release,
    same_aoi,
    snapshot,
    stored_payload,
    with_resolved_selection,
)
from shared.auth import Principal, current_principal
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
from shared.inbox import Effect, Incoming, Reject
from shared.problems import Problem, not_found
from shared.vocabulary import StoredOrderItem

log = logging.getLogger("tessera.cart")

router = APIRouter(prefix="/v1/carts", tags=["cart"])

MAX_KEY_LENGTH = 255


# ------------------------------------------------------------------------------ views


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def item_view(row: asyncpg.Record) -> dict[str, Any]:
    facts = row["facts"] or {}
    out: dict[str, Any] = {
        "id": str(row["id"]),
        "position": row["position"],
        "mode": row["mode"],
        "item": row["payload"],
    }
    if row["mode"] == "polygon":
        out["aoi"] = {"aoi_id": facts.get("aoi_id"), "parts": facts.get("parts", []), "totals": facts.get("totals")}
    else:
        out["cells"] = facts.get("cells", [])
    out["warnings"] = facts.get("warnings", [])
    out["footprint"] = facts.get("footprint")
    out["created_at"] = _iso(row["created_at"])
    out["updated_at"] = _iso(row["updated_at"])
    return out


def cart_view(row: asyncpg.Record, items: list[asyncpg.Record] | None = None,
              item_count: int | None = None) -> dict[str, Any]:
    status = row["status"]
    out: dict[str, Any] = {
        "id": str(row["id"]),
        "account_id": row["account_id"],
        "status": status,
        # the checkout holding the cart (frozen) or that bought it (checked_out)
        "checkout_id": row["checkout_id"] if status != CartStatus.OPEN.value else None,
        "version": row["version"],
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }
    if items is not None:
        out["items"] = [item_view(i) for i in items]
        out["item_count"] = len(items)
    else:
        out["item_count"] = item_count or 0
    return out


def _item_totals(estimate: dict[str, Any], item_ids: list[str]) -> dict[str, dict[str, str]]:
    """Per item: the sum of its estimate lines, and of those charged at checkout."""
    totals = {i: [Decimal(0), Decimal(0)] for i in item_ids}
    for line in estimate.get("lines") or []:
        t = totals.get(str(line.get("item")))
        if t is None:
            continue
        amount = Decimal(str(line.get("amount", "0")))
        t[0] += amount
        if line.get("charged_at_checkout"):
            t[1] += amount
    return {i: {"total": f"{a:.2f}", "due_at_checkout": f"{d:.2f}", "currency": estimate.get("currency", "EUR")}
            for i, (a, d) in totals.items()}


# ------------------------------------------------------------------------------ helpers


async def _json_body(request: Request, *, required: bool = True) -> Any:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise Problem(422, "validation_error", "body: send a JSON object",
                          errors=[{"field": "body", "message": "send a JSON object"}])
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:  # not JSON, not UTF-8, or a number of more than 4,300 digits
        raise Problem(400, "malformed_json", f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise Problem(400, "malformed_json", "the body is nested too deeply to be read; an order item is a flat "
                                             "JSON object") from None


def _validation_problem(exc: ValidationError, prefix: str = "") -> Problem:
    errors = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e.get("loc", ()))
        errors.append({"field": f"{prefix}{loc}" if loc else "body", "message": e.get("msg", "invalid")})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return Problem(422, "validation_error", detail, errors=errors)


def _parse_item(body: Any) -> StoredOrderItem:
    if not isinstance(body, dict):
        raise Problem(422, "validation_error", "body: an order item must be a JSON object",
                      errors=[{"field": "body", "message": "an order item must be a JSON object"}])
    try:
        return StoredOrderItem.model_validate(body)
    except ValidationError as exc:
        raise _validation_problem(exc) from None


def _kept_payload(payload: StoredOrderItem, facts: dict[str, Any]) -> dict[str, Any]:
    """The canonical payload kept with the item; a grid selection as tiling normalised it."""
    stored = stored_payload(payload)
    if payload.aoi_mode == "grid":
        stored = stored_payload(StoredOrderItem.model_validate(with_resolved_selection(stored, facts)))
    return stored


def _locked_problem(exc: CartLocked) -> Problem:
    return Problem(409, exc.code, exc.detail, checkout_id=exc.checkout_id)


async def _locked_cart(conn: asyncpg.Connection, cart_id: str, account: str):
    """Lock the caller's cart row; 404 for a missing or foreign cart, 409 unless it is open."""
    row = await store.lock_cart(conn, cart_id)
    if row is None or row["account_id"] != account:
        raise not_found("cart", cart_id)
    cart = store.cart_of(row)
    try:
        ensure_editable(cart)
    except CartLocked as exc:
        raise _locked_problem(exc) from None
    return row


async def _readable_cart(rt, cart_id: str, account: str, *, editable: bool = False):
    row = await store.get_cart(rt.pool, cart_id, account)
    if row is None:
        raise not_found("cart", cart_id)
    if editable:
        try:
            ensure_editable(store.cart_of(row))
        except CartLocked as exc:
            raise _locked_problem(exc) from None
    return row


# ------------------------------------------------------------------------------ idempotent mutations

Outcome = tuple[int, Any, dict[str, str]]  # status, JSON body (None for 204), headers


def _fingerprint(request: Request, body: Any) -> str:
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canon}".encode()).hexdigest()


def _respond(status: int, body: Any, headers: dict[str, str]) -> Response:
    if status == 204 or body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def _replay(row: asyncpg.Record, fingerprint: str, key: str) -> Response:
    if row["fingerprint"] != fingerprint:
        raise Problem(422, "idempotency_key_reused",
                      f"Idempotency-Key {key!r} was already used for a different request (another body, method "
                      "or path); send a new key for a new request",
                      errors=[{"field": "Idempotency-Key", "message": "already used for a different request"}])
    return _respond(row["status"], row["body"], {**(row["headers"] or {}), "Idempotent-Replayed": "true"})


class _KeyTaken(Exception):
    pass


async def _mutate(request: Request, principal: Principal, body: Any,
                  prepare: Callable[[], Awaitable[Any]] | None,
                  apply: Callable[[asyncpg.Connection, Any], Awaitable[Outcome]]) -> Response:
    """Run a mutation: ``prepare`` (peer calls, no transaction) then ``apply`` in one transaction,
    under the request's Idempotency-Key when it has one."""
    rt = request.app.state.rt
    key = request.headers.get("idempotency-key")
    account = principal.account
    fingerprint = ""
    if key is not None:
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            raise Problem(422, "invalid_idempotency_key", f"Idempotency-Key must be 1..{MAX_KEY_LENGTH} characters",
                          errors=[{"field": "Idempotency-Key", "message": "empty or too long"}])
        fingerprint = _fingerprint(request, body)
        done = await store.get_key(rt.pool, account, key)
        if done is not None:
            return _replay(done, fingerprint, key)
    prepared = await prepare() if prepare else None
    try:
        async with rt.pool.acquire() as conn, conn.transaction():
            if key is not None and not await store.claim_key(conn, account, key, fingerprint):
                raise _KeyTaken()
            status, out, headers = await apply(conn, prepared)
            if key is not None:
                await store.store_response(conn, account, key, status, out, headers)
    except _KeyTaken:
        done = await store.get_key(rt.pool, account, key)
        return _replay(done, fingerprint, key)
    return _respond(status, out, headers)


# ------------------------------------------------------------------------------ routes


@router.post("", status_code=201)
async def create_cart(request: Request, principal: Principal = Depends(current_principal)) -> Response:
    """A new, empty, open cart of the caller's account."""
    body = await _json_body(request, required=False)
    if body is not None and not isinstance(body, dict):
        raise Problem(422, "validation_error", "body: send a JSON object (or nothing)",
                      errors=[{"field": "body", "message": "send a JSON object (or nothing)"}])

    async def apply(conn, _):
        row = await store.insert_cart(conn, uuid.uuid4(), principal.account)
        view = cart_view(row, [])
        return 201, view, {"Location": f"/v1/carts/{view['id']}"}

    return await _mutate(request, principal, body, None, apply)


@router.get("")
async def list_carts(request: Request, principal: Principal = Depends(current_principal),
                     status: CartStatus | None = Query(default=None)) -> dict:
    """The caller's carts, newest first (no estimates)."""
    rows = await store.list_carts(request.app.state.rt.pool, principal.account, status.value if status else None)
    return {"carts": [cart_view(r, item_count=r["item_count"]) for r in rows]}


@router.get("/{cart_id}")
async def get_cart(cart_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    """The cart, its items and a live estimate (``estimate: null`` plus ``estimate_note`` when there is none)."""
    rt = request.app.state.rt
    row = await _readable_cart(rt, cart_id, principal.account)
    items = await store.items_of(rt.pool, cart_id)
    view = cart_view(row, items)
    priced = [{**i["payload"], "item_id": str(i["id"])} for i in items]
    estimate, note = await peers.live_estimate(rt, priced, request.headers.get("authorization"))
    view["estimate"] = estimate
    view["estimate_note"] = note
    if estimate is not None:
        totals = _item_totals(estimate, [i["id"] for i in view["items"]])
        for item in view["items"]:
            item["estimate"] = totals[item["id"]]
    return view


@router.post("/{cart_id}/items", status_code=201)
async def add_item(cart_id: str, request: Request, principal: Principal = Depends(current_principal)) -> Response:
    """Add one item: an order-item payload (``aoi_id`` or a grid selection, plus its configuration)."""
    rt = request.app.state.rt
    body = await _json_body(request)
    auth = request.headers.get("authorization")

    async def prepare():
        payload = _parse_item(body)
        await _readable_cart(rt, cart_id, principal.account, editable=True)  # fail fast, before peer calls
        facts = await peers.facts_of(rt, payload, auth)
        return payload, facts

    async def apply(conn, prepared):
        payload, facts = prepared
        await _locked_cart(conn, cart_id, principal.account)
        if await store.count_items(conn, cart_id) >= rt.settings.max_items_per_cart:
            raise Problem(409, "cart_full", f"cart {cart_id} already holds {rt.settings.max_items_per_cart} items, "
                          "the most one cart may hold; check it out or use another cart")
        stored = _kept_payload(payload, facts)
        row = await store.insert_item(conn, cart_id, uuid.uuid4(), stored, payload.aoi_mode, facts)
        await store.touch(conn, cart_id)
        await rt.outbox.add(conn, CartItemAdded(cart_id=cart_id, account_id=principal.account,
                                                item_id=str(row["id"]), item=stored))
        view = item_view(row)
        return 201, view, {"Location": f"/v1/carts/{cart_id}/items/{view['id']}"}

    return await _mutate(request, principal, body, prepare, apply)


@router.patch("/{cart_id}/items/{item_id}")
async def update_item(cart_id: str, item_id: str, request: Request,
                      principal: Principal = Depends(current_principal)) -> Response:
    """Change one item: a JSON merge patch of its payload (aliases accepted; ``null`` removes a field).
    When the AOI (``aoi_id`` or the grid selection) changes, its facts are read again."""
    rt = request.app.state.rt
    body = await _json_body(request)
    auth = request.headers.get("authorization")
    if not isinstance(body, dict):
        raise Problem(422, "validation_error", "body: send a JSON object (a merge patch of the item)",
                      errors=[{"field": "body", "message": "send a JSON object (a merge patch of the item)"}])

    async def prepare():
        await _readable_cart(rt, cart_id, principal.account, editable=True)
        current = await store.get_item(rt.pool, cart_id, item_id)
        if current is None:
            raise not_found("item", item_id)
        payload = _parse_item(merge_patch(current["payload"], body))
        stored = stored_payload(payload)
        if same_aoi(stored, current["payload"]):
            facts = current["facts"]
        else:
            facts = await peers.facts_of(rt, payload, auth)
            stored = _kept_payload(payload, facts)
        return current, payload, stored, facts

    async def apply(conn, prepared):
        current, payload, stored, facts = prepared
        await _locked_cart(conn, cart_id, principal.account)
        now = await store.get_item(conn, cart_id, item_id)
        if now is None:
            raise not_found("item", item_id)
        if now["updated_at"] != current["updated_at"]:
            raise Problem(409, "item_changed_concurrently",
                          f"item {item_id} was changed by another request meanwhile; read it again and retry")
        row = await store.update_item(conn, now["id"], stored, payload.aoi_mode, facts)
        await store.touch(conn, cart_id)
        await rt.outbox.add(conn, CartItemUpdated(cart_id=cart_id, account_id=principal.account,
                                                  item_id=str(row["id"]), item=stored))
        return 200, item_view(row), {}

    return await _mutate(request, principal, body, prepare, apply)


@router.delete("/{cart_id}/items/{item_id}", status_code=204)
async def remove_item(cart_id: str, item_id: str, request: Request,
                      principal: Principal = Depends(current_principal)) -> Response:
    rt = request.app.state.rt

    async def apply(conn, _):
        await _locked_cart(conn, cart_id, principal.account)
        row = await store.get_item(conn, cart_id, item_id)
        if row is None:
            raise not_found("item", item_id)
        await store.delete_item(conn, row["id"])
        await store.touch(conn, cart_id)
        await rt.outbox.add(conn, CartItemRemoved(cart_id=cart_id, account_id=principal.account,
                                                  item_id=str(row["id"])))
        return 204, None, {}

    return await _mutate(request, principal, None, None, apply)


# ------------------------------------------------------------------------------ Kafka effects (checkout saga)


def saga_effects(rt) -> dict[str, Effect]:
    """cart.cart.commands: FreezeCart / ReleaseCart / CloseCart. Each runs in the inbox transaction,
    locks the cart row, and writes its reply to the outbox (redelivered commands are idempotent)."""

    async def on_freeze(conn: asyncpg.Connection, inc: Incoming) -> None:
        cmd: FreezeCart = inc.message  # type: ignore[assignment]
        cid = inc.envelope.correlation_id

        async def reject(code: str, reason: str) -> None:
            log.info("freeze of cart %s by checkout %s rejected: %s", cmd.cart_id, cmd.checkout_id, reason)
            await rt.outbox.add(conn, CartFreezeRejected(cart_id=cmd.cart_id, account_id=cmd.account_id,
                                                         checkout_id=cmd.checkout_id, code=code, reason=reason),
                                correlation_id=cid)

        row = await store.lock_cart(conn, cmd.cart_id)
        if row is None or row["account_id"] != cmd.account_id:
            await reject(FreezeRefusal.CART_NOT_FOUND,
                         f"cart {cmd.cart_id} does not exist for account {cmd.account_id}")
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
                                             checkout_id=cmd.checkout_id, items=snaps), correlation_id=cid)

    async def on_release(conn: asyncpg.Connection, inc: Incoming) -> None:
        cmd: ReleaseCart = inc.message  # type: ignore[assignment]
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
        except IllegalCartTransition as exc:
            raise Reject(str(exc)) from None
        if t.changed:
            await store.set_state(conn, t.cart)
        await rt.outbox.add(conn, CartReleased(cart_id=cmd.cart_id, account_id=cmd.account_id,
                                               checkout_id=cmd.checkout_id),
                            correlation_id=inc.envelope.correlation_id)

    async def on_close(conn: asyncpg.Connection, inc: Incoming) -> None:
        cmd: CloseCart = inc.message  # type: ignore[assignment]
        row = await store.lock_cart(conn, cmd.cart_id)
        if row is None or row["account_id"] != cmd.account_id:
            raise Reject(f"cart {cmd.cart_id} does not exist for account {cmd.account_id}")
        try:
            t = close(store.cart_of(row), cmd.checkout_id)
        except IllegalCartTransition as exc:
            raise Reject(str(exc)) from None
        if t.changed:
            await store.set_state(conn, t.cart)
        await rt.outbox.add(conn, CartCheckedOut(cart_id=cmd.cart_id, account_id=cmd.account_id,
                                                 checkout_id=cmd.checkout_id),
                            correlation_id=inc.envelope.correlation_id)

    return {FreezeCart.TYPE: on_freeze, ReleaseCart.TYPE: on_release, CloseCart.TYPE: on_close}

