"""Response shapes of the checkout service: JSON-ready dicts built from its rows (checkouts, accounts and
their ledger, orders, the overlay page, cancellation outcomes). Amounts are strings with two decimals."""
from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal

import asyncpg
import orjson
from pydantic import BaseModel, ConfigDict, Field

from shared.catalog import attribution_notices
from shared.money import format_amount


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


def started_checkout(row: asyncpg.Record) -> tuple[dict[str, Any], dict[str, str]]:
    """The 202 answer to a new checkout: its view with the URL to poll, and the Location header."""
    view = checkout_view(row)
    url = f"/v1/checkouts/{view['id']}"
    return {**view, "url": url}, {"Location": url}


def account_view(account: str, row: asyncpg.Record | None, ledger: Sequence[asyncpg.Record]) -> dict[str, Any]:
    """An account's credit (an account never used has none yet) and its ledger, oldest first."""
    return {
        "account_id": account,
        "balance": format_amount(row["balance"] if row else Decimal(0)),
        "overdraft_limit": format_amount(row["overdraft_limit"] if row else Decimal(0)),
        "skip_review": bool(row and row["skip_review"]),
        "currency": "EUR",
        "ledger": [{"amount": format_amount(r["amount"]), "kind": r["kind"], "ref": r["ref"],
                    "at": r["created_at"].isoformat()} for r in ledger],
    }


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


def order_list(rows: Sequence[asyncpg.Record]) -> dict[str, Any]:
    return {"orders": [order_summary(r) for r in rows]}


def order_detail(r: asyncpg.Record, history: Sequence[asyncpg.Record],
                 charges: Sequence[asyncpg.Record]) -> dict[str, Any]:
    """One order in full: its configuration, area, price, monthly charges, status history and the
    attribution its imagery needs."""
    return {
        **order_summary(r),
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


def overlay_page(rows: Sequence[asyncpg.Record], hits: Sequence[bool], next_cursor: str | None,
                 prefilter: str) -> dict[str, Any]:
    """A page of the overlay: the candidates that meet the viewport, each footprint served as the text it
    is stored as (an orjson fragment: never parsed into Python objects)."""
    orders = [{**order_summary(r), "footprint": orjson.Fragment(r["footprint"])}
              for r, hit in zip(rows, hits, strict=True) if hit]
    return {"orders": orders, "next_cursor": next_cursor, "prefilter": prefilter}


def renewal_stopped(order_id: str, last_month: str) -> dict[str, Any]:
    return {"order_id": order_id, "result": "renewal_stopped", "last_month": last_month,
            "detail": f"the order keeps running until the end of {last_month}; it will not renew"}


def canceled(order_id: str, refunded: Decimal) -> dict[str, Any]:
    return {"order_id": order_id, "result": "canceled", "refunded": format_amount(refunded), "currency": "EUR"}


# ------------------------------------------------------------------------------ OpenAPI shapes
# Documentation of the answers above (the routes answer with the dicts, not through these models).

class CheckoutFailure(BaseModel):
    """Why a checkout failed and what is next (insufficient credit: the amount missing; a changed price:
    the new total to accept)."""

    model_config = ConfigDict(extra="allow")
    code: str
    reason: str | None
    missing: str | None = Field(None, description="insufficient credit: the amount missing")
    due: str | None = Field(None, description="insufficient credit: the amount due")
    new_total: str | None = Field(None, description="a changed price: the new total, to accept in a new checkout")
    accepted_total: str | None = Field(None, description="a changed price: the total that was accepted")


class Checkout(BaseModel):
    id: str
    cart_id: str
    status: Literal["running", "completed", "failed"]
    step: str
    accepted_total: str
    total: str | None
    currency: str
    order_ids: list[str]
    created_at: str
    updated_at: str
    failure: CheckoutFailure | None = None


class StartedCheckout(Checkout):
    url: str = Field(description="poll it for the outcome (also the Location header)")


class LedgerEntry(BaseModel):
    amount: str
    kind: str
    ref: str | None
    at: str


class Account(BaseModel):
    """An account's credit and its ledger, oldest first (an account never used has none yet)."""

    account_id: str
    balance: str
    overdraft_limit: str
    skip_review: bool
    currency: str
    ledger: list[LedgerEntry]


class OrderSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True, protected_namespaces=())
    id: str
    status: str
    model: str
    mode: Literal["polygon", "grid"]
    constellations: list[str]
    from_: str = Field(alias="from")
    to: str | None
    recurring: bool
    amount: str
    currency: str
    checkout_id: str
    created_at: str
    renewal_stopped_after: str | None
    renewal_paused: bool | None


class OrderList(BaseModel):
    orders: list[OrderSummary]


class Charge(BaseModel):
    month: str
    amount: str
    status: str


class StatusChange(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    from_: str | None = Field(alias="from")
    to: str
    at: str
    source: str | None
    detail: Any = None


class OrderPrice(BaseModel):
    lines: list[dict[str, Any]]
    total: str
    currency: str


class OrderDetail(OrderSummary):
    """One order in full: configuration, area, image dates, price, monthly charges, status history and the
    attribution notices its imagery needs."""

    configuration: dict[str, Any]
    aoi: dict[str, Any] | None
    cells: list[dict[str, Any]] | None
    footprint: dict[str, Any] | None
    image_dates: list[dict[str, Any]]
    price: OrderPrice
    charges: list[Charge]
    status_history: list[StatusChange]
    attribution: list[str]


class OverlayOrder(OrderSummary):
    footprint: dict[str, Any] = Field(description="GeoJSON geometry")


class OverlayPage(BaseModel):
    """Orders meeting the viewport, newest first; follow ``next_cursor`` (null on the last page)."""

    orders: list[OverlayOrder]
    next_cursor: str | None
    prefilter: str


class CancelOutcome(BaseModel):
    """``canceled`` in Review (with the refund), or ``renewal_stopped`` afterwards (with the last month)."""

    order_id: str
    result: Literal["canceled", "renewal_stopped"]
    refunded: str | None = None
    currency: str | None = None
    last_month: str | None = None
    detail: str | None = None


class RenewalRun(BaseModel):
    month: str
    orders_sent_for_pricing: int
