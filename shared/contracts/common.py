"""Building blocks shared by several message contracts."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.money import Amount
from shared.vocabulary import StoredOrderItem


class Part(BaseModel):
    """A polygon-mode AOI part as pricing needs it: label and geodesic area (before the minimum)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    label: str
    area_km2: Decimal


class Cell(BaseModel):
    """A grid cell to buy, with its level, (clipped) area and the dates of it already owned."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    guid: str
    level: Literal["tile", "minitile"]
    area_km2: Decimal
    excluded_dates: list[date] = []


class ItemSnapshot(BaseModel):
    """A cart item frozen for checkout: self-contained (the order item payload plus the AOI facts)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    item_id: str
    item: StoredOrderItem  # the order item in the shared vocabulary
    mode: Literal["polygon", "grid"]
    parts: list[Part] = []  # polygon mode: the AOI's parts
    cells: list[Cell] = []  # grid mode: the resolved selection
    footprint: dict[str, Any] | None = None  # GeoJSON (AOI geometry or union of cells), for the order overlay


class Renewal(BaseModel):
    """The monthly renewal a saga message belongs to: one attempt to charge `order_id` for `month`.

    Carried by ReserveCoverage and PriceCheckout of a renewal and echoed by their replies, so every
    participant knows a renewal from a checkout by this field, not by the shape of an id. The
    renewal's correlation id (`checkout_id` of those messages) is `checkout_id`; the attempts of one
    (order, month) share `base`.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)
    order_id: str
    month: str  # "YYYY-MM" (UTC)
    attempt: int = 0

    @property
    def base(self) -> str:
        """What every attempt of this (order, month) has in common."""
        return f"renewal:{self.order_id}:{self.month}"

    @property
    def checkout_id(self) -> str:
        """The correlation id of this attempt (its replies, reservations and stored price use it)."""
        return self.base + (f":{self.attempt}" if self.attempt else "")

    @classmethod
    def attempt_of(cls, checkout_id: str, base: str) -> int | None:
        """The attempt number of a correlation id of `base`; None when it is not one of them."""
        if checkout_id == base:
            return 0
        head, sep, tail = checkout_id.rpartition(":")
        return int(tail) if sep and head == base and tail.isdigit() else None


class SpendLine(BaseModel):
    """Spend that counts toward tiers: one calendar month and model family."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    month: str  # "YYYY-MM" (UTC)
    family: str  # "Stratus" | "Nimbus"
    amount: Amount
