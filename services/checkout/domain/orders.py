"""The order aggregate (docs/domain.md, Cart, checkout and orders): its state machine (one table of
legal transitions), the cancel decision, the order a priced checkout item becomes, and the order id a
status report names."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

import shapely
from shapely.geometry import shape

from shared.contracts.pricing import PricedItem
from shared.geo.h3index import aoi_cells


class OrderStatus(StrEnum):
    REVIEW = "Review"
    PREPARING = "Preparing"
    AWAITING = "AwaitingSatelliteProducts"
    PROCESSING = "Processing"
    PREDICTING = "Predicting"
    PROCESSING_PREDICTING = "ProcessingPredicting"
    COMPLETED = "Completed"
    UP_TO_DATE = "UpToDate"
    CANCELED = "Canceled"


S = OrderStatus
_WORKING = {S.PROCESSING, S.PREDICTING, S.PROCESSING_PREDICTING}

# Production reports may move an order along these edges. Completed is for fixed windows,
# UpToDate for recurring orders (which go back to AwaitingSatelliteProducts for the next month's
# imagery). Canceled is reached only through the customer's cancel in Review (see cancel_decision).
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.REVIEW: frozenset({S.PREPARING}),
    S.PREPARING: frozenset({S.AWAITING}),
    S.AWAITING: frozenset(_WORKING),
    S.PROCESSING: frozenset({S.PREDICTING, S.PROCESSING_PREDICTING, S.COMPLETED, S.UP_TO_DATE}),
    S.PREDICTING: frozenset({S.PROCESSING, S.PROCESSING_PREDICTING, S.COMPLETED, S.UP_TO_DATE}),
    S.PROCESSING_PREDICTING: frozenset({S.PROCESSING, S.PREDICTING, S.COMPLETED, S.UP_TO_DATE}),
    S.UP_TO_DATE: frozenset({S.AWAITING, S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELED: frozenset(),
}
LIVE = frozenset(set(OrderStatus) - {S.COMPLETED, S.CANCELED})


class IllegalOrderTransition(ValueError):
    """A move the order state machine does not allow (the message says which and why)."""


def parse_status(text: str) -> OrderStatus:
    try:
        return OrderStatus(text)
    except ValueError:
        names = ", ".join(s.value for s in OrderStatus)
        raise IllegalOrderTransition(f"unknown order status {text!r}; known: {names}") from None


def transition(current: OrderStatus, target: OrderStatus, *, recurring: bool) -> OrderStatus:
    """The new status, or IllegalOrderTransition naming both ends."""
    if target == S.CANCELED:
        raise IllegalOrderTransition(f"{current} -> Canceled: orders are canceled by the customer (in Review only)")
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (terminal)"
        raise IllegalOrderTransition(f"{current} -> {target} is not allowed; from {current}: {allowed}")
    if target == S.COMPLETED and recurring and current != S.UP_TO_DATE:
        raise IllegalOrderTransition(f"{current} -> Completed: a recurring order becomes UpToDate, not Completed")
    if target == S.UP_TO_DATE and not recurring:
        raise IllegalOrderTransition(f"{current} -> UpToDate: only recurring orders are UpToDate; "
                                     "a fixed window is Completed")
    return target


@dataclass(frozen=True)
class CancelDecision:
    kind: str  # "full" | "stop_renewal" | "refused"
    reason: str = ""


def cancel_decision(status: OrderStatus, *, recurring: bool, renewal_stopped: bool) -> CancelDecision:
    """Full cancel (refund, spend reversed) only in Review; afterwards a recurring order can only
    stop its next renewal; anything else is refused with the reason."""
    if status == S.REVIEW:
        return CancelDecision("full")
    if status == S.CANCELED:
        return CancelDecision("refused", "the order is already canceled")
    if not recurring:
        return CancelDecision("refused", f"the order is in {status}; only orders in Review can be canceled "
                                         "(a fixed-window order is produced once accepted)")
    if status == S.COMPLETED:
        return CancelDecision("refused", "the order is completed; nothing is left to stop")
    if renewal_stopped:
        return CancelDecision("refused", "the next renewal is already stopped")
    return CancelDecision("stop_renewal")


class ReportRefused(ValueError):
    """A production status report that can never be applied (unknown order, sender not allowed, or an
    illegal transition); the message says which."""


def order_uuid(text: str) -> uuid.UUID | None:
    """The order's primary key, or None for a text that cannot name an order.

    Only the canonical spelling counts: reports are keyed by the order id, and another spelling of
    the same UUID could land on another partition and overtake the order's earlier reports.
    """
    try:
        value = uuid.UUID(text)
    except ValueError:
        return None
    return value if str(value) == text else None


def build_order(checkout_id: uuid.UUID, account_id: str, item: dict[str, Any], priced: PricedItem,
                status: OrderStatus) -> dict[str, Any]:
    """The order row one priced snapshot item of a checkout becomes (its id derived from both, so a
    redelivered reply places the same order); the footprint's bbox and H3 cells feed the overlay."""
    payload = item["item"]
    footprint = item.get("footprint")
    bbox, cells = None, []
    if footprint:
        geom = shape(footprint)
        if not geom.is_empty:
            bbox = list(shapely.bounds(geom))
            cells = aoi_cells(geom)
    return {
        "id": uuid.uuid5(checkout_id, item["item_id"]),
        "account_id": account_id,
        "checkout_id": str(checkout_id),
        "item_id": item["item_id"],
        "item": payload,
        "mode": item["mode"],
        "model": payload["model"],
        "constellations": list(payload["constellations"]),
        "status": str(status),
        "recurring": payload.get("to") is None,
        "from_date": date.fromisoformat(payload["from"]),
        "to_date": date.fromisoformat(payload["to"]) if payload.get("to") else None,
        "amount": priced.amount_due,
        "price": {"lines": priced.lines, "image_dates": [d.isoformat() for d in priced.image_dates]},
        "spend": [s.model_dump(mode="json") for s in priced.spend],
        "parts": item.get("parts", []),
        "cells": item.get("cells", []),
        "footprint": footprint,
        "bbox": bbox,
        "h3_cells": cells,
    }
