"""Building blocks shared by several message contracts."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from shared.money import Amount


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
    item: dict[str, Any]  # the shared order-item payload (shared.vocabulary.StoredOrderItem), JSON form
    mode: Literal["polygon", "grid"]
    parts: list[Part] = []  # polygon mode: the AOI's parts
    cells: list[Cell] = []  # grid mode: the resolved selection
    footprint: dict[str, Any] | None = None  # GeoJSON (AOI geometry or union of cells), for the order overlay


class SpendLine(BaseModel):
    """Spend that counts toward tiers: one calendar month and model family."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    month: str  # "YYYY-MM" (UTC)
    family: str  # "Stratus" | "Nimbus"
    amount: Amount
