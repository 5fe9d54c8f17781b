"""HTTP routes of the checkout service: checkouts, credits, orders, cancellation, renewals."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Literal

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator

from services.checkout import store
from services.checkout.domain import overlay as overlay_view
from services.checkout.domain.orders import LIVE, OrderStatus, cancel_decision
from services.checkout.handlers.renewals import renew
from shared import idempotency
from shared.auth import Principal, current_principal, require_admin
from shared.catalog import attribution_notices
from shared.contracts.cart import FreezeCart
from shared.contracts.checkout import CheckoutRequested, OrderCanceled, RenewalStopped
from shared.contracts.common import SpendLine
from shared.contracts.coverage import ReleaseCoverage
from shared.inputs import Id, path_id
from shared.money import AMOUNT_RULE, MAX_AMOUNT, Amount, format_amount
from shared.problems import Problem, not_found
from shared.schedule import Month, utc_today
from shared.vocabulary import EARLIEST_DATE, LATEST_DATE

router = APIRouter(tags=["checkout"])


class CheckoutRequest(BaseModel):
    cart_id: Id
    accepted_total: Amount = Field(description=f"the total the customer saw and accepted; {AMOUNT_RULE}")


def check_key(idempotency_key: str | None) -> None:
    """A top-up's Idempotency-Key (the reference of its ledger row) is at most as long as any other key."""
    most = idempotency.MAX_KEY_LENGTH
    if idempotency_key and len(idempotency_key) > most:
        raise Problem(422, "invalid_idempotency_key", f"Idempotency-Key is {len(idempotency_key):,} characters long; "
                                                      f"send at most {most}",
                      errors=[{"field": "Idempotency-Key", "message": f"at most {most} characters"}])


def rt_of(request: Request):
    return request.app.state.rt


@router.post("/v1/checkouts", status_code=202)
async def create_checkout(body: CheckoutRequest, request: Request, principal: Principal = Depends(current_principal)):
    """Start a checkout of a cart at the accepted total; poll the returned URL for the outcome."""
    key = idempotency.key_of(request, required=True)
    assert key is not None
    rt = rt_of(request)
    # the same request whatever the spelling of the total ("10.5" and "10.50")
    fingerprint = idempotency.fingerprint(request, {"cart_id": body.cart_id,
                                                    "accepted_total": f"{body.accepted_total:.2f}"})

    async def apply(conn) -> idempotency.Outcome:
        checkout_id = uuid.uuid4()
        row = await conn.fetchrow(
            "INSERT INTO checkouts (id, account_id, cart_id, accepted_total, step, step_deadline)"
            " VALUES ($1, $2, $3, $4, 'freezing', now() + make_interval(secs => $5)) RETURNING *",
            checkout_id, principal.account, body.cart_id, body.accepted_total, rt.settings.step_timeout_seconds)
        await rt.outbox.add(conn, CheckoutRequested(checkout_id=str(checkout_id), account_id=principal.account,
                                                    cart_id=body.cart_id, accepted_total=body.accepted_total))
        await rt.outbox.add(conn, FreezeCart(cart_id=body.cart_id, account_id=principal.account,
                                             checkout_id=str(checkout_id)))
        view = store.checkout_view(row)
        url = f"/v1/checkouts/{view['id']}"
        return 202, {**view, "url": url}, {"Location": url}

    return await idempotency.run(rt.pool, principal.account, key, fingerprint, apply)


@router.get("/v1/checkouts/{checkout_id}")
async def get_checkout(checkout_id: uuid.UUID, request: Request, principal: Principal = Depends(current_principal)):
    row = await rt_of(request).pool.fetchrow("SELECT * FROM checkouts WHERE id = $1 AND account_id = $2",
                                             checkout_id, principal.account)
    if row is None:
        raise not_found("checkout", checkout_id)
    return store.checkout_view(row)


class TopUp(BaseModel):
    amount: Amount = Field(description=f"positive; {AMOUNT_RULE}")

    @field_validator("amount")
    @classmethod
    def _positive(cls, amount):
        if amount <= 0:
            raise ValueError("must be a positive amount in EUR, e.g. \"1000.00\"")
        return amount


class AccountSettings(BaseModel):
    overdraft_limit: Amount | None = Field(None, description=AMOUNT_RULE)
    skip_review: bool | None = None


async def account_view(conn, account: str) -> dict:
    row = await conn.fetchrow("SELECT * FROM accounts WHERE account_id = $1", account)
    ledger = await conn.fetch(
        "SELECT amount, kind, ref, created_at FROM credit_ledger WHERE account_id = $1 ORDER BY id", account)
    return {
        "account_id": account,
        "balance": format_amount(row["balance"] if row else Decimal(0)),
        "overdraft_limit": format_amount(row["overdraft_limit"] if row else Decimal(0)),
        "skip_review": bool(row and row["skip_review"]),
        "currency": "EUR",
        "ledger": [{"amount": format_amount(r["amount"]), "kind": r["kind"], "ref": r["ref"],
                    "at": r["created_at"].isoformat()} for r in ledger],
    }


@router.post("/v1/accounts/{account}/credits")
async def top_up(account: str, body: TopUp, request: Request,
                 idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
                 _: Principal = Depends(require_admin)):
    """Admin: add prepaid credit to an account (an Idempotency-Key makes a retry harmless)."""
    path_id(account, "account")
    check_key(idempotency_key)
    rt = rt_of(request)
    async with rt.pool.acquire() as conn, conn.transaction():
        row = await store.lock_account(conn, account)
        if row["balance"] + body.amount >= MAX_AMOUNT:
            raise Problem(409, "balance_limit", f"account {account} holds {format_amount(row['balance'])} EUR; adding "
                                                f"{format_amount(body.amount)} would reach the most a balance may hold "
                                                f"({MAX_AMOUNT:,} EUR)", field="amount")
        await store.post_credit(conn, account, body.amount, "topup", idempotency_key or f"topup-{uuid.uuid4()}")
        return await account_view(conn, account)


@router.patch("/v1/accounts/{account}")
async def update_account(account: str, body: AccountSettings, request: Request, _: Principal = Depends(require_admin)):
    """Admin: set the overdraft limit or whether orders skip Review."""
    path_id(account, "account")
    rt = rt_of(request)
    async with rt.pool.acquire() as conn, conn.transaction():
        await store.lock_account(conn, account)
        if body.overdraft_limit is not None:
            await conn.execute("UPDATE accounts SET overdraft_limit = $2 WHERE account_id = $1", account,
                               body.overdraft_limit)
        if body.skip_review is not None:
            await conn.execute("UPDATE accounts SET skip_review = $2 WHERE account_id = $1", account, body.skip_review)
        return await account_view(conn, account)


@router.get("/v1/accounts/{account}/credits")
async def get_credits(account: str, request: Request, principal: Principal = Depends(current_principal)):
    if account != principal.account and not principal.admin:
        raise not_found("account", account)
    path_id(account, "account")
    async with rt_of(request).pool.acquire() as conn:
        return await account_view(conn, account)


def status_filter(status: str | None) -> list[str] | None:
    if status is None:
        return None
    if status == "live":
        return [s.value for s in LIVE]
    if status == "completed":
        return [OrderStatus.COMPLETED.value]
    raise Problem(422, "validation_error", "status must be 'live' or 'completed'",
                  errors=[{"field": "status", "message": "live|completed"}])


@router.get("/v1/orders")
async def list_orders(request: Request, status: Literal["live", "completed"] | None = None, model: str | None = None,
                      limit: int = Query(50, ge=1, le=500), principal: Principal = Depends(current_principal)):
    rows = await rt_of(request).pool.fetch(
        "SELECT * FROM orders WHERE account_id = $1 AND ($2::text[] IS NULL OR status = ANY($2))"
        " AND ($3::text IS NULL OR model = $3) ORDER BY created_at DESC LIMIT $4",
        principal.account, status_filter(status), model, limit)
    return {"orders": [store.order_summary(r) for r in rows]}


@router.get("/v1/orders/overlay")
async def overlay(request: Request, bbox: str = Query(..., description="minLon,minLat,maxLon,maxLat"),
                  model: str | None = None, status: Literal["live", "completed"] | None = None,
                  date_from: date | None = Query(None, alias="from"), date_to: date | None = Query(None, alias="to"),
                  date_match: Literal["within", "overlap"] = "overlap",
                  limit: int = Query(overlay_view.DEFAULT_LIMIT, ge=1, le=overlay_view.MAX_LIMIT),
                  cursor: str | None = None, principal: Principal = Depends(current_principal)):
    """The account's orders in a map viewport, newest first, a page of at most `limit` candidates at a time
    (follow `next_cursor`; a page may hold fewer orders than `limit`). Viewports over 400 square degrees are
    refused."""
    body = await overlay_view.overlay(rt_of(request).pool, principal.account, bbox, model=model,
                                      statuses=status_filter(status), date_from=date_from, date_to=date_to,
                                      date_match=date_match, limit=limit, cursor=cursor)
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/v1/orders/{order_id}")
async def get_order(order_id: uuid.UUID, request: Request, principal: Principal = Depends(current_principal)):
    rt = rt_of(request)
    r = await rt.pool.fetchrow("SELECT * FROM orders WHERE id = $1 AND account_id = $2", order_id, principal.account)
    if r is None:
        raise not_found("order", order_id)
    history = await rt.pool.fetch("SELECT * FROM order_history WHERE order_id = $1 ORDER BY id", order_id)
    charges = await rt.pool.fetch("SELECT month, amount, status FROM order_charges WHERE order_id = $1 ORDER BY month",
                                  order_id)
    return {
        **store.order_summary(r),
        "configuration": r["item"],
        "aoi": {"parts": r["parts"]} if r["mode"] == "polygon" else None,
        "cells": r["cells"] if r["mode"] == "grid" else None,
        "footprint": r["footprint"],
        "image_dates": r["price"]["image_dates"],
        "price": {"lines": r["price"]["lines"], "total": format_amount(r["amount"]), "currency": "EUR"},
        "charges": [{"month": c["month"], "amount": format_amount(c["amount"]),
                     "status": c["status"]} for c in charges],
        "status_history": [{"from": h["from_status"], "to": h["to_status"], "at": h["at"].isoformat(),
                            "source": h["source"], "detail": h["detail"]} for h in history],
        "attribution": list(attribution_notices(r["constellations"])),
    }


@router.post("/v1/orders/{order_id}:cancel")
async def cancel_order(order_id: uuid.UUID, request: Request, principal: Principal = Depends(current_principal)):
    """Full cancel in Review (refund, spend reversed, coverage released); afterwards only a recurring
    order's next renewal can be stopped."""
    rt = rt_of(request)
    async with rt.pool.acquire() as conn, conn.transaction():
        r = await conn.fetchrow("SELECT * FROM orders WHERE id = $1 AND account_id = $2 FOR UPDATE", order_id,
                                principal.account)
        if r is None:
            raise not_found("order", order_id)
        decision = cancel_decision(OrderStatus(r["status"]), recurring=r["recurring"],
                                   renewal_stopped=r["renewal_stopped_after"] is not None)
        if decision.kind == "refused":
            raise Problem(409, "cancel_refused", decision.reason, status_now=r["status"])
        if decision.kind == "stop_renewal":
            this_month = str(Month.of(utc_today()))
            await conn.execute("UPDATE orders SET renewal_stopped_after = $2, updated_at = now() WHERE id = $1",
                               order_id, this_month)
            await rt.outbox.add(conn,
                                RenewalStopped(order_id=str(order_id), account_id=r["account_id"],
                                               last_month=this_month))
            return {"order_id": str(order_id), "result": "renewal_stopped", "last_month": this_month,
                    "detail": f"the order keeps running until the end of {this_month}; it will not renew"}
        charged = await conn.fetch(
            "SELECT month, amount FROM order_charges WHERE order_id = $1 AND status = 'charged'", order_id)
        refund = sum((Decimal(c["amount"]) for c in charged), Decimal(0))
        await store.lock_account(conn, r["account_id"])
        await store.post_credit(conn, r["account_id"], refund, "refund", str(order_id))
        await conn.execute("UPDATE orders SET status = 'Canceled', updated_at = now() WHERE id = $1", order_id)
        await conn.execute("UPDATE order_charges SET status = 'refunded' WHERE order_id = $1", order_id)
        await store.add_history(conn, order_id, r["status"], "Canceled", f"/accounts/{principal.account}",
                                "canceled by customer")
        spend = [SpendLine(**s) for s in r["spend"]]  # the checkout's; renewals' spend is in their charge detail
        for c in await conn.fetch("SELECT detail FROM order_charges WHERE order_id = $1 AND detail IS NOT NULL",
                                  order_id):
            spend += [SpendLine(**s) for item in c["detail"].get("items", []) for s in item.get("spend", [])]
        await rt.outbox.add(conn, OrderCanceled(order_id=str(order_id), account_id=r["account_id"], refunded=refund,
                                                spend_reversed=spend))
        if r["mode"] == "grid":
            await rt.outbox.add(conn, ReleaseCoverage(account_id=r["account_id"], checkout_id=str(r["checkout_id"]),
                                                      order_ids=[str(order_id)]))
        return {"order_id": str(order_id), "result": "canceled", "refunded": format_amount(refund), "currency": "EUR"}


@router.post("/v1/renewals:run")
async def run_renewals(request: Request, month: str | None = None, _: Principal = Depends(require_admin)):
    """Admin/ops: run the renewal pass now (it also runs on its own schedule)."""
    try:
        m = Month.parse(month) if month else Month.of(utc_today())
        if not EARLIEST_DATE <= m.first_day <= LATEST_DATE:
            raise ValueError(month)
    except ValueError:
        raise Problem(422, "validation_error", f"month: {month!r} is not a month; write it as YYYY-MM, e.g. 2025-04 "
                                                 f"(from {EARLIEST_DATE:%Y-%m} to {LATEST_DATE:%Y-%m})",
                      errors=[{"field": "month", "message": "a month as YYYY-MM, e.g. 2025-04"}]) from None
    sent = await renew(rt_of(request), m)
    return {"month": str(m), "orders_sent_for_pricing": sent}
