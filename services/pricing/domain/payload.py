"""Bridge from the shared order-item payload to the calculator's neutral ``PricingItem``."""

from __future__ import annotations

from collections.abc import Iterable

from shared.schedule import Schedule
from shared.vocabulary import OrderItem

from .estimate import PolygonPart, PricedCell, PricingItem

__all__ = ["pricing_item_from_payload", "schedule_of"]


def schedule_of(payload: OrderItem) -> Schedule:
    """The image schedule of a validated payload (reference date defaulting to ``from``)."""
    return Schedule(payload.from_, payload.to, payload.image_frequency, payload.effective_reference_date)


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
        schedule=schedule_of(payload),
        parts=tuple(parts),
        cells=tuple(cells),
        storage_months=payload.storage_months,
        api_requests=payload.api_requests,
    )
