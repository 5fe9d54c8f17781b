"""The monthly spend ledger: idempotent, order-independent, cancellations in Review lower spend."""

from __future__ import annotations

from decimal import Decimal
from itertools import permutations

import pytest

from services.pricing.domain import (
    ConflictingCharge,
    Month,
    OrderCancelledInReview,
    PlacedSpend,
    RenewedSpend,
    SpendLedger,
)
from shared.catalog import ModelFamily

APRIL, MAY = Month(2025, 4), Month(2025, 5)
S, N = ModelFamily.STRATUS, ModelFamily.NIMBUS


def placed(order, amount, month=APRIL, family=S, account="acc-1"):
    return PlacedSpend(order, account, family, month, Decimal(amount))


def test_spend_is_summed_per_account_month_and_family():
    ledger = SpendLedger()
    for event in [placed("o1", "1017.00"), placed("o2", "24.00"), placed("o3", "12.00", family=N),
                  placed("o4", "5.00", account="acc-2"), RenewedSpend("o1", "acc-1", S, MAY, Decimal("30.00"))]:
        ledger.apply(event)
    assert ledger.spend("acc-1", APRIL, S) == Decimal("1041.00")  # 1017 + 24
    assert ledger.spend("acc-1", APRIL, N) == Decimal("12.00")
    assert ledger.spend("acc-2", APRIL, S) == Decimal("5.00")
    assert ledger.spend("acc-1", MAY, S) == Decimal("30.00")
    assert ledger.spend("acc-3", APRIL, S) == Decimal("0")


def test_a_duplicated_event_changes_nothing():
    ledger = SpendLedger()
    assert ledger.apply(placed("o1", "100.00")) is True
    assert ledger.apply(placed("o1", "100.00")) is False
    assert ledger.spend("acc-1", APRIL, S) == Decimal("100.00")


def test_a_cancellation_in_review_removes_the_orders_spend():
    ledger = SpendLedger()
    ledger.apply(placed("o1", "100.00"))
    ledger.apply(placed("o2", "40.00"))
    assert ledger.apply(OrderCancelledInReview("o1", "acc-1")) is True
    assert ledger.apply(OrderCancelledInReview("o1", "acc-1")) is False  # duplicated cancel
    assert ledger.spend("acc-1", APRIL, S) == Decimal("40.00")


def test_a_cancellation_arriving_before_its_placement_is_remembered():
    ledger = SpendLedger()
    ledger.apply(OrderCancelledInReview("o1", "acc-1"))
    assert ledger.apply(placed("o1", "100.00")) is False
    assert ledger.spend("acc-1", APRIL, S) == Decimal("0")


def test_a_cancellation_withdraws_renewals_too():
    ledger = SpendLedger()
    ledger.apply(placed("o1", "10.00"))
    ledger.apply(RenewedSpend("o1", "acc-1", S, MAY, Decimal("8.00")))
    ledger.apply(OrderCancelledInReview("o1", "acc-1"))
    assert (ledger.spend("acc-1", APRIL, S), ledger.spend("acc-1", MAY, S)) == (Decimal(0), Decimal(0))


def test_any_order_and_duplication_of_events_gives_the_same_spend():
    # o1 100 (cancelled), o2 40, o2 renewed in May 25, o3 7.50 Nimbus:
    # April Stratus 40, May Stratus 25, April Nimbus 7.50.
    events = [
        placed("o1", "100.00"),
        placed("o2", "40.00"),
        OrderCancelledInReview("o1", "acc-1"),
        RenewedSpend("o2", "acc-1", S, MAY, Decimal("25.00")),
        placed("o3", "7.50", family=N),
    ]
    for order in permutations(events):
        ledger = SpendLedger()
        for event in order + order[:2]:  # replays too
            ledger.apply(event)
        assert ledger.spend("acc-1", APRIL, S) == Decimal("40.00")
        assert ledger.spend("acc-1", MAY, S) == Decimal("25.00")
        assert ledger.spend("acc-1", APRIL, N) == Decimal("7.50")


def test_the_same_order_and_month_with_another_amount_is_a_conflict():
    ledger = SpendLedger()
    ledger.apply(placed("o1", "100.00"))
    with pytest.raises(ConflictingCharge, match="o1"):
        ledger.apply(placed("o1", "99.00"))


def test_the_ledger_feeds_the_estimate_as_a_spend_source():
    ledger = SpendLedger()
    ledger.apply(placed("o1", "2900.00"))
    assert ledger.spend_source("acc-1")(APRIL, S) == Decimal("2900.00")
