"""Bridge from the shared order-item payload to the calculator's neutral ``PricingItem``."""

from __future__ import annotations

from collections.abc import Iterable

from shared.vocabulary import OrderItem

from .estimate import PolygonPart, PricedCell, PricingItem

__all__ = ["pricing_item_from_payload"]


def pricing_item_from_payload(
    payload: OrderItem,
    *,
    label: str,
    parts: Iterable[PolygonPart] = (),
    cells: Iterable[PricedCell] = (),
) -> PricingItem:
    """Build the calculator input once the caller has resolved the AOI into parts or cells
    (areas from the AOI service, cells and owned dates from tiling)."""
    return PricingItem(
        label=label,
        model=payload.model,
        constellations=frozenset(payload.constellations),
        schedule=payload.schedule,
        parts=tuple(parts),
        cells=tuple(cells),
        storage_months=payload.storage_months,
        api_requests=payload.api_requests,
    )
