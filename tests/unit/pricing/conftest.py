"""Builders shared by the pricing unit tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.pricing.domain import PolygonPart, PricedCell, PricingItem, Schedule

ALL_THREE = frozenset({"Sentinel1", "Sentinel2", "Landsat89"})
FULL_TILE_KM2 = Decimal("2621.44")  # 51.2 km × 51.2 km, docs/domain.md, The grid
MINITILE_KM2 = Decimal("10.24")  # 3.2 km × 3.2 km


def april_2025(frequency: int = 3, reference: date | None = date(2025, 1, 1)) -> Schedule:
    """The worked example's window (docs/domain.md, Pricing): April 2025, a fixed window."""
    return Schedule(date(2025, 4, 1), date(2025, 4, 30), frequency, reference)


def polygon_item(
    *areas: str | Decimal,
    label: str = "item",
    model: str = "Stratus2",
    constellations=ALL_THREE,
    schedule: Schedule | None = None,
    storage_months: int = 1,
    api_requests: int = 1,
) -> PricingItem:
    return PricingItem(
        label=label,
        model=model,
        constellations=constellations,
        schedule=schedule or april_2025(),
        parts=tuple(PolygonPart(f"part {i + 1}", Decimal(a)) for i, a in enumerate(areas)),
        storage_months=storage_months,
        api_requests=api_requests,
    )


def grid_item(
    *cells: PricedCell,
    label: str = "item",
    model: str = "Stratus2",
    constellations=ALL_THREE,
    schedule: Schedule | None = None,
    storage_months: int = 1,
    api_requests: int = 1,
) -> PricingItem:
    return PricingItem(
        label=label,
        model=model,
        constellations=constellations,
        schedule=schedule or april_2025(),
        cells=cells,
        storage_months=storage_months,
        api_requests=api_requests,
    )


def tile(key: str = "tile-1", area: str | Decimal = FULL_TILE_KM2, excluded=()) -> PricedCell:
    return PricedCell(key, "tile", Decimal(area), frozenset(excluded))


def minitile(key: str = "mini-1", area: str | Decimal = MINITILE_KM2, excluded=()) -> PricedCell:
    return PricedCell(key, "minitile", Decimal(area), frozenset(excluded))
