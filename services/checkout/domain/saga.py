"""The checkout saga as an explicit state machine, and the pure decisions it takes.

freezing → reserving → pricing → completed, or → failed from any running step. A reply is only
accepted in the step that waits for it; anything else (a late or duplicate reply) is ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.schedule import charge_periods
from shared.vocabulary import StoredOrderItem


class Step(StrEnum):
    FREEZING = "freezing"
    RESERVING = "reserving"
    PRICING = "pricing"
    COMPLETED = "completed"
    FAILED = "failed"


SAGA: dict[Step, frozenset[Step]] = {
    Step.FREEZING: frozenset({Step.RESERVING, Step.PRICING, Step.FAILED}),
    Step.RESERVING: frozenset({Step.PRICING, Step.FAILED}),
    Step.PRICING: frozenset({Step.COMPLETED, Step.FAILED}),
    Step.COMPLETED: frozenset(),
    Step.FAILED: frozenset(),
}


class IllegalStep(ValueError):
    pass


def advance(current: Step, target: Step) -> Step:
    if target not in SAGA[current]:
        raise IllegalStep(f"checkout cannot go from {current} to {target}")
    return target


def dates_charged_at_checkout(item: StoredOrderItem, today: date) -> list[date]:
    """The image dates bought at checkout (a fixed window: all; recurring: up to this month)."""
    periods = charge_periods(item.schedule, today, include_next_month=False)
    return sorted({d for p in periods if p.at_checkout for d in p.dates})


def apply_coverage(items: list[dict[str, Any]], outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Snapshot items with the grid cells that remain to buy after deduplication."""
    by_item = {o["item_id"]: o for o in outcomes}
    out = []
    for it in items:
        o = by_item.get(it["item_id"])
        out.append({**it, "cells": o["cells"]} if o is not None and it["mode"] == "grid" else it)
    return out


def missing_credit(balance: Decimal, overdraft_limit: Decimal, amount: Decimal) -> Decimal:
    """How much is missing to pay `amount` from `balance` with the overdraft; 0 when it can be paid."""
    short = amount - (balance + overdraft_limit)
    return short if short > 0 else Decimal("0")


@dataclass(frozen=True)
class Failure:
    code: str
    reason: str


def price_changed(accepted: Decimal, priced: Decimal) -> Failure | None:
    if accepted == priced:
        return None
    return Failure("price_changed", f"the price is now EUR {priced:.2f}, not the EUR {accepted:.2f} you accepted; "
                                    f"review the cart and confirm the new total")
