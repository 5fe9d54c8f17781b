"""The monthly spend ledger: what each account really bought, per UTC month and model family.

Tiers (docs/domain.md, Pricing) start from this spend. It is fed by order events, which Kafka may
deliver twice or out of order, so the ledger is keyed by (order id, charge month):

- ``PlacedSpend`` (from an OrderPlaced message) records the order's checkout charge in its checkout month;
- ``RenewedSpend`` (from OrderRenewed) records a recurring order's charge for a later month;
- ``OrderCancelledInReview`` withdraws every charge of the order (a full cancel refunds it all,
  docs/domain.md, Cart, checkout and orders). A cancellation that arrives before the placement
  is remembered, so the late placement never counts.

Replaying an event changes nothing. The same (order, month) arriving again with a *different*
amount, account or family is a ``ConflictingCharge`` (a bug upstream, never silently merged).
Only order charges (imagery lines) belong here, never storage or downloads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from shared.catalog import ModelFamily
from shared.money import to_decimal
from shared.schedule import Month

__all__ = [
    "ConflictingCharge",
    "OrderCancelledInReview",
    "PlacedSpend",
    "RenewedSpend",
    "SpendEvent",
    "SpendLedger",
]


class ConflictingCharge(ValueError):
    """The same order and month was reported with different figures."""


@dataclass(frozen=True, slots=True)
class PlacedSpend:
    order_id: str
    account_id: str
    family: ModelFamily
    month: Month
    amount: Decimal


@dataclass(frozen=True, slots=True)
class RenewedSpend:
    order_id: str
    account_id: str
    family: ModelFamily
    month: Month
    amount: Decimal


@dataclass(frozen=True, slots=True)
class OrderCancelledInReview:
    order_id: str
    account_id: str


SpendEvent = PlacedSpend | RenewedSpend | OrderCancelledInReview


@dataclass(frozen=True, slots=True)
class _Charge:
    account_id: str
    family: ModelFamily
    amount: Decimal


class SpendLedger:
    """Pure aggregate of month spend; ``apply`` is idempotent and order-independent."""

    def __init__(self) -> None:
        self._charges: dict[tuple[str, Month], _Charge] = {}
        self._cancelled: set[str] = set()
        self._totals: dict[tuple[str, Month, ModelFamily], Decimal] = {}

    def apply(self, event: SpendEvent) -> bool:
        """Apply one order event; returns whether the spend changed."""
        if isinstance(event, OrderCancelledInReview):
            return self._cancel(event.order_id)
        if isinstance(event, PlacedSpend | RenewedSpend):
            return self._charge(event)
        raise TypeError(f"not a spend event: {type(event).__name__}")

    def spend(self, account_id: str, month: Month, family: ModelFamily) -> Decimal:
        """The account's spend so far in ``month`` for ``family`` (0 when nothing was bought)."""
        return self._totals.get((account_id, month, family), Decimal(0))

    def spend_source(self, account_id: str) -> Callable[[Month, ModelFamily], Decimal]:
        """A ``(month, family) -> spend`` function for the estimate calculator."""
        return lambda month, family: self.spend(account_id, month, family)

    def _charge(self, event: PlacedSpend | RenewedSpend) -> bool:
        amount = to_decimal(event.amount)
        if amount < 0:
            raise ValueError(f"order {event.order_id}: a charge cannot be negative ({amount})")
        key = (event.order_id, event.month)
        charge = _Charge(event.account_id, ModelFamily(event.family), amount)
        known = self._charges.get(key)
        if known is not None:
            if known != charge:
                raise ConflictingCharge(
                    f"order {event.order_id} month {event.month}: already recorded {known.amount} EUR "
                    f"({known.account_id}, {known.family}), now {amount} EUR ({event.account_id}, {event.family})"
                )
            return False
        self._charges[key] = charge
        if event.order_id in self._cancelled:
            return False  # cancelled before this charge arrived: remembered, never counted
        self._add(charge, event.month, amount)
        return True

    def _cancel(self, order_id: str) -> bool:
        if order_id in self._cancelled:
            return False
        self._cancelled.add(order_id)
        changed = False
        for (charged_order, month), charge in self._charges.items():
            if charged_order == order_id:
                self._add(charge, month, -charge.amount)
                changed = True
        return changed

    def _add(self, charge: _Charge, month: Month, delta: Decimal) -> None:
        key = (charge.account_id, month, charge.family)
        self._totals[key] = self._totals.get(key, Decimal(0)) + delta
