"""HTTP routes of the checkout service: checkouts, credits and account settings, orders, the order
overlay, cancellation, renewals. Each parses its request, calls a use case and answers with it.

``POST /v1/checkouts`` needs an Idempotency-Key, an admin's top-up (``POST /v1/accounts/{account}/credits``)
takes one (``shared.idempotency``, per the caller's account): the same key with the same request replays
the first answer (header ``Idempotent-Replayed: true``); with another request it is a 422
``idempotency_key_reused``.
"""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, field_validator

from services.checkout import usecases, views
from services.checkout.domain import overlay as overlay_rules
from services.checkout.domain.orders import LIVE, OrderStatus
from shared import idempotency
from shared.auth import Principal, current_principal, require_admin
from shared.http import answers
from shared.inputs import Id, path_id
from shared.money import AMOUNT_RULE, Amount
from shared.problems import Problem, not_found
from shared.schedule import Month, utc_today
from shared.service import Runtime
from shared.vocabulary import EARLIEST_DATE, LATEST_DATE

router = APIRouter(tags=["checkout"])


class CheckoutRequest(BaseModel):
    cart_id: Id
    accepted_total: Amount = Field(description=f"the total the customer saw and accepted; {AMOUNT_RULE}")


def rt_of(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


@router.post("/v1/checkouts", status_code=202, **answers(views.StartedCheckout, "started; poll its url", 202))
async def create_checkout(body: CheckoutRequest, request: Request,
                          principal: Principal = Depends(current_principal),
                          key: str = Depends(idempotency.required_key)) -> Response:
    """Start a checkout of a cart at the accepted total; poll the returned URL for the outcome."""
    # the same request whatever the spelling of the total ("10.5" and "10.50")
    fingerprint = idempotency.fingerprint(request, {"cart_id": body.cart_id,
                                                    "accepted_total": f"{body.accepted_total:.2f}"})
    return await usecases.start_checkout(rt_of(request), principal.account, key, fingerprint, body.cart_id,
                                         body.accepted_total)


@router.get("/v1/checkouts/{checkout_id}", **answers(views.Checkout, "the checkout"))
async def get_checkout(checkout_id: uuid.UUID, request: Request,
                       principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    """A checkout's progress: running, completed (its orders) or failed (why, and what next)."""
    return await usecases.get_checkout(rt_of(request), principal.account, checkout_id)


class TopUp(BaseModel):
    amount: Amount = Field(description=f"positive; {AMOUNT_RULE}")

    @field_validator("amount")
    @classmethod
    def _positive(cls, amount: Decimal) -> Decimal:
        if amount <= 0:
            raise ValueError("must be a positive amount in EUR, e.g. \"1000.00\"")
        return amount


class AccountSettings(BaseModel):
    overdraft_limit: Amount | None = Field(None, description=AMOUNT_RULE)
    skip_review: bool | None = None


@router.post("/v1/accounts/{account}/credits", **answers(views.Account, "the account after the top-up"))
async def top_up(account: str, body: TopUp, request: Request, admin: Principal = Depends(require_admin),
                 key: str | None = Depends(idempotency.optional_key)) -> Response:
    """Admin: add prepaid credit to an account (an Idempotency-Key makes a retry harmless)."""
    path_id(account, "account")
    # the same top-up whatever the spelling of the amount ("10.5" and "10.50")
    fingerprint = idempotency.fingerprint(request, {"amount": f"{body.amount:.2f}"}) if key is not None else ""
    return await usecases.top_up(rt_of(request), admin.account, account, body.amount, key, fingerprint)


@router.patch("/v1/accounts/{account}", **answers(views.Account, "the account"))
async def update_account(account: str, body: AccountSettings, request: Request,
                         _: Principal = Depends(require_admin)) -> dict[str, Any]:
    """Admin: set the overdraft limit or whether orders skip Review."""
    path_id(account, "account")
    return await usecases.update_account(rt_of(request), account, body.overdraft_limit, body.skip_review)


@router.get("/v1/accounts/{account}/credits", **answers(views.Account, "the account"))
async def get_credits(account: str, request: Request,
                      principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    """An account's credit balance, overdraft limit and ledger (the caller's own; an admin any)."""
    if account != principal.account and not principal.admin:
        raise not_found("account", account)
    path_id(account, "account")
    return await usecases.account(rt_of(request), account)


def status_filter(status: str | None) -> list[str] | None:
    if status is None:
        return None
    if status == "live":
        return [s.value for s in LIVE]
    if status == "completed":
        return [OrderStatus.COMPLETED.value]
    raise Problem(422, "validation_error", "status must be 'live' or 'completed'",
                  errors=[{"field": "status", "message": "live|completed"}])


@router.get("/v1/orders", **answers(views.OrderList, "the orders"))
async def list_orders(request: Request, status: Literal["live", "completed"] | None = None, model: str | None = None,
                      limit: int = Query(50, ge=1, le=500),
                      principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    """The caller's orders, newest first; `status` live or completed, `model` narrow the list."""
    return await usecases.list_orders(rt_of(request), principal.account, status_filter(status), model, limit)


@router.get("/v1/orders/overlay", **answers(views.OverlayPage, "a page of orders"))
async def overlay(request: Request, bbox: str = Query(..., description="minLon,minLat,maxLon,maxLat"),
                  model: str | None = None, status: Literal["live", "completed"] | None = None,
                  date_from: date | None = Query(None, alias="from"), date_to: date | None = Query(None, alias="to"),
                  date_match: Literal["within", "overlap"] = "overlap",
                  limit: int = Query(overlay_rules.DEFAULT_LIMIT, ge=1, le=overlay_rules.MAX_LIMIT),
                  cursor: str | None = None, principal: Principal = Depends(current_principal)) -> Response:
    """The account's orders in a map viewport, newest first, a page of at most `limit` candidates at a time
    (follow `next_cursor`; a page may hold fewer orders than `limit`). Viewports over 400 square degrees are
    refused."""
    body = await usecases.overlay(rt_of(request), principal.account, bbox, model=model,
                                  statuses=status_filter(status), date_from=date_from, date_to=date_to,
                                  date_match=date_match, limit=limit, cursor=cursor)
    # footprints are orjson fragments (their stored text): only orjson writes them as they are
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/v1/orders/{order_id}", **answers(views.OrderDetail, "the order"))
async def get_order(order_id: uuid.UUID, request: Request,
                    principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    """One order in full: configuration, area, image dates, price, charges, status history, attribution."""
    return await usecases.order_detail(rt_of(request), principal.account, order_id)


@router.post("/v1/orders/{order_id}:cancel", **answers(views.CancelOutcome, "what was done"))
async def cancel_order(order_id: uuid.UUID, request: Request,
                       principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    """Full cancel in Review (refund, spend reversed, coverage released); afterwards only a recurring
    order's next renewal can be stopped."""
    return await usecases.cancel_order(rt_of(request), principal.account, order_id)


@router.post("/v1/renewals:run", **answers(views.RenewalRun, "the pass"))
async def run_renewals(request: Request, month: str | None = None,
                       _: Principal = Depends(require_admin)) -> dict[str, Any]:
    """Admin/ops: run the renewal pass now (it also runs on its own schedule)."""
    try:
        m = Month.parse(month) if month else Month.of(utc_today())
        if not EARLIEST_DATE <= m.first_day <= LATEST_DATE:
            raise ValueError(month)
    except ValueError:
        raise Problem(422, "validation_error", f"month: {month!r} is not a month; write it as YYYY-MM, e.g. 2025-04 "
                                                 f"(from {EARLIEST_DATE:%Y-%m} to {LATEST_DATE:%Y-%m})",
                      errors=[{"field": "month", "message": "a month as YYYY-MM, e.g. 2025-04"}]) from None
    sent = await usecases.renew(rt_of(request), m)
    return {"month": str(m), "orders_sent_for_pricing": sent}
