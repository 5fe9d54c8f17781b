"""The speed-ups of the estimate path change no result.

The calculator caches per-level facts of a grid item's cells (keyed by the identity of its cells
tuple), and the estimate route caches whole GUID selections. A grid item whose cells all share
one level and carry no owned dates takes the cached path; the same cells with an owned date that
lies outside the window take the grouping loop, yet group identically — so both must give the
same lines, areas and totals. Figures are not asserted here (see test_estimate.py); only sameness.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.pricing.domain import estimate
from services.pricing.domain.resolve import grid_cells
from shared.grid import CellId, is_whole
from shared.vocabulary import OrderItem

from .conftest import april_2025, grid_item, minitile, tile

DAY = date(2025, 4, 10)
OUTSIDE = frozenset({date(2024, 12, 31)})  # owned, but not a date of the April window


def _cells(excluded=frozenset()):
    return (
        tile("t1", "100.000001", excluded), minitile("m1", "3.999999", excluded), tile("t2", "87.5", excluded),
        minitile("m2", "4", excluded), minitile("m3", "0.000001", excluded),
    )


def test_cached_facts_price_exactly_like_the_grouping_loop():
    for api_requests, storage in ((1, 1), (3, 2)):
        fast = grid_item(*_cells(), schedule=april_2025(1), api_requests=api_requests, storage_months=storage)
        slow = grid_item(*_cells(OUTSIDE), schedule=april_2025(1), api_requests=api_requests,
                         storage_months=storage)
        first = estimate([fast], checkout_day=DAY)
        again = estimate([fast], checkout_day=DAY)  # from the cache
        reference = estimate([slow], checkout_day=DAY)
        assert first == again == reference
        assert first.total > Decimal(0)


def test_same_cells_in_a_new_tuple_are_not_confused_with_a_cached_one():
    a = grid_item(*_cells(), schedule=april_2025(1))
    estimate([a], checkout_day=DAY)
    fewer = grid_item(*_cells()[:2], schedule=april_2025(1))
    assert estimate([fewer], checkout_day=DAY) == estimate([grid_item(*_cells(OUTSIDE)[:2], schedule=april_2025(1))],
                                                         checkout_day=DAY)


def _payload(tiles, minis):
    return OrderItem.model_validate({
        "tile_guids": [c.guid for c in tiles], "minitile_guids": [c.guid for c in minis],
        "model": "Stratus2", "constellations": ["Sentinel1", "Sentinel2", "Landsat89"], "from": "2025-04-01",
        "to": "2025-04-30",
        "image_frequency": 2,
    })


def test_a_cached_selection_is_the_same_cells_and_upper_case_guids_hit_it():
    whole = [c for row in range(60, 70) for col in range(3, 17) if is_whole(c := CellId(33, False, col, row))]
    tiles, minis = whole[:3], [whole[3].minitile_at(m) for m in range(4)]
    first = grid_cells(_payload(tiles, minis))
    upper = OrderItem.model_validate({**_payload(tiles, minis).model_dump(by_alias=True, mode="json"),
                                      "tile_guids": [c.guid.upper() for c in tiles]})
    assert grid_cells(upper) is first
    assert [c.key for c in first] == [c.guid.lower() for c in tiles] + [c.guid.lower() for c in minis]
    assert grid_cells(_payload(tiles[:2], minis)) != first
