"""Cart items: parsing, canonical payload, merge patches with aliases, AOI/tiling facts and the frozen snapshot."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.cart.domain import (
    canonical_keys,
    grid_facts,
    kept_payload,
    merge_patch,
    parse_item,
    polygon_facts,
    same_aoi,
    snapshot,
    stored_payload,
    union_footprint,
    with_resolved_selection,
)
from shared.contracts.common import ItemSnapshot
from shared.peers import parse_resolved_selection, parse_stored_aoi
from shared.problems import Problem
from shared.vocabulary import StoredOrderItem

TILE = "7e550100-2100-800c-806b-000017c28736"  # 33N-C0012-R0107
MINI = "7e550101-2100-800c-806b-8900eaf8b077"  # 33N-C0012-R0107-M137
ALL_THREE = ["Sentinel1", "Sentinel2", "Landsat89"]


def pascal_item() -> dict:
    return {"aoi_id": "aoi-1", "Model": "Stratus2", "SatelliteConstellations": ALL_THREE, "From": "2025-04-01",
            "To": "2025-04-30", "ImageFrequency": 3, "ReferenceDate": "2025-01-01"}


def test_stored_payload_is_canonical_snake_case_without_estimate_only_fields():
    stored = stored_payload(StoredOrderItem.model_validate(pascal_item()))
    assert stored == {"aoi_id": "aoi-1", "model": "Stratus2", "constellations": ALL_THREE, "from": "2025-04-01",
                      "to": "2025-04-30", "image_frequency": 3, "reference_date": "2025-01-01",
                      "storage_months": 1, "api_requests": 1, "tile_deduplication": False}


def test_parse_item_names_each_refused_field():
    assert parse_item(pascal_item()).image_frequency == 3
    with pytest.raises(Problem) as refused:
        parse_item(pascal_item() | {"ImageFrequency": 9})
    assert (refused.value.status, refused.value.code) == (422, "validation_error")
    assert refused.value.extra["errors"][0]["field"] == "ImageFrequency"
    with pytest.raises(Problem) as refused:
        parse_item(["not", "an", "object"])
    assert refused.value.extra["errors"] == [{"field": "body", "message": "an order item must be a JSON object"}]


def test_recurring_to_null_is_kept():
    raw = pascal_item() | {"To": None}
    assert stored_payload(StoredOrderItem.model_validate(raw))["to"] is None


def test_canonical_keys_maps_aliases_and_prefers_the_canonical_spelling():
    assert canonical_keys({"ImageFrequency": 2, "TileGuids": [TILE], "x": 1}) == {
        "image_frequency": 2, "tile_guids": [TILE], "x": 1}
    assert canonical_keys({"from": "2025-05-01", "From": "2025-06-01"})["from"] == "2025-05-01"
    assert canonical_keys({"From": "2025-06-01", "from": "2025-05-01"})["from"] == "2025-05-01"


def test_merge_patch_with_aliases_and_null():
    stored = stored_payload(StoredOrderItem.model_validate(pascal_item()))
    merged = merge_patch(stored, {"ImageFrequency": 2, "To": None, "reference_date": None})
    assert merged["image_frequency"] == 2
    assert merged["to"] is None  # recurring
    assert "reference_date" not in merged
    item = StoredOrderItem.model_validate(merged)
    assert item.effective_reference_date.isoformat() == "2025-04-01"


def test_merge_patch_switching_mode_needs_the_old_aoi_removed():
    stored = stored_payload(StoredOrderItem.model_validate(pascal_item()))
    with pytest.raises(ValidationError):
        StoredOrderItem.model_validate(merge_patch(stored, {"tile_guids": [TILE]}))
    switched = StoredOrderItem.model_validate(merge_patch(stored, {"tile_guids": [TILE], "aoi_id": None}))
    assert switched.aoi_mode == "grid"
    assert not same_aoi(stored, stored_payload(switched))


def test_same_aoi_ignores_the_order_of_guids_and_configuration_changes():
    a = {"tile_guids": [TILE, MINI], "model": "Stratus2"}
    b = {"tile_guids": [MINI, TILE], "model": "Nimbus"}
    assert same_aoi(a, b)
    assert not same_aoi(a, {"tile_guids": [TILE]})


def test_polygon_facts_from_the_stored_aoi():
    body = {"id": "aoi-1",
            "geometry": {"type": "GeometryCollection", "geometries": [
                {"type": "Polygon", "coordinates": [((0, 0), (1, 0), (1, 1), (0, 0))]}]},
            "report": {"parts": [{"index": 1, "kind": "Polygon", "area_km2": 12.0, "billable_km2": 12.0},
                                 {"index": 2, "kind": "Polygon", "area_km2": 0.4999999999, "billable_km2": 1.0}],
                       "totals": {"area_km2": 12.5, "billable_km2": 13.0}}}
    facts = polygon_facts(parse_stored_aoi("aoi-1", body))
    # labelled as pricing labels them (shared.peers)
    assert facts["parts"] == [
        {"label": "Polygon 1", "index": 1, "area_km2": "12", "billable_km2": "12"},
        {"label": "Polygon 2", "index": 2, "area_km2": "0.5", "billable_km2": "1"},
    ]
    assert facts["totals"] == {"area_km2": 12.5, "billable_km2": 13.0}
    assert facts["footprint"]["geometries"][0]["coordinates"] == [[[0, 0], [1, 0], [1, 1], [0, 0]]]


def test_an_aoi_without_parts_never_becomes_facts():
    with pytest.raises(ValueError):
        polygon_facts(parse_stored_aoi("aoi-1", {"report": {"parts": []}}))


def test_grid_facts_levels_from_the_lists():
    body = {"tiles": [{"guid": TILE, "code": "33N-C0012-R0107", "zone": "33N", "epsg": 32633, "area_km2": 2621.44,
                       "footprint": None}],
            "minitiles": [{"guid": MINI, "code": "33N-C0012-R0107-M137", "zone": "33N", "epsg": 32633,
                           "area_km2": 10.24, "footprint": None}],
            "warnings": ["a warning"]}
    facts = grid_facts(parse_resolved_selection(body))
    assert [(c["guid"], c["level"], c["area_km2"]) for c in facts["cells"]] == [
        (TILE, "tile", "2621.44"), (MINI, "minitile", "10.24")]
    assert facts["cells"][0]["code"] == "33N-C0012-R0107" and "footprint" not in facts["cells"][0]
    assert facts["warnings"] == ["a warning"]
    with pytest.raises(ValueError, match="no cells"):  # never facts without a cell
        parse_resolved_selection({"tiles": [], "minitiles": []})


def test_union_footprint_merges_adjacent_squares():
    a = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    b = {"type": "Polygon", "coordinates": [[[1, 0], [2, 0], [2, 1], [1, 1], [1, 0]]]}
    union = union_footprint([a, b])
    assert union["type"] == "Polygon"
    xs = [p[0] for p in union["coordinates"][0]]
    assert min(xs) == 0 and max(xs) == 2
    assert union_footprint([]) is None


def test_snapshot_of_a_polygon_item_is_self_contained():
    stored = stored_payload(StoredOrderItem.model_validate(pascal_item()))
    facts = {"aoi_id": "aoi-1", "parts": [{"label": "Polygon 1", "index": 1, "area_km2": "12"}],
             "footprint": {"type": "GeometryCollection", "geometries": []}}
    snap = snapshot("item-1", stored, "polygon", facts)
    assert snap.mode == "polygon" and snap.cells == []
    assert [(p.label, p.area_km2) for p in snap.parts] == [("Polygon 1", Decimal("12"))]
    assert snap.item.from_ == date(2025, 4, 1) and snap.item.aoi_id == "aoi-1"
    assert snap.item.reference_date == date(2025, 1, 1) and snap.item.image_frequency == 3
    # on the wire it speaks the shared vocabulary's names ("from", not the attribute "from_")
    wire = snap.model_dump(mode="json", by_alias=True)["item"]
    assert wire["from"] == "2025-04-01" and "from_" not in wire
    # and it round-trips through JSON into the typed item (what pricing and checkout read)
    again = ItemSnapshot.model_validate_json(snap.model_dump_json())
    assert again.item == snap.item


def test_snapshot_of_a_grid_item_carries_cells():
    stored = {"tile_guids": [TILE], "model": "Stratus2", "constellations": ALL_THREE, "from": "2025-04-01",
              "to": None, "image_frequency": 7}
    facts = {"cells": [{"guid": TILE, "level": "tile", "area_km2": "2621.44"}], "warnings": [], "footprint": None}
    snap = snapshot("item-2", stored, "grid", facts)
    assert snap.mode == "grid" and snap.parts == []
    assert [(c.guid, c.level, c.area_km2, c.excluded_dates) for c in snap.cells] == [
        (TILE, "tile", Decimal("2621.44"), [])]
    assert snap.item.tile_guids == [TILE] and snap.item.to is None


def test_a_grid_payload_takes_the_resolved_selection():
    payload = {"tile_guids": [TILE], "minitile_guids": [MINI], "model": "Stratus2"}
    # tiling folded the minitile into its (selected) tile
    facts = {"cells": [{"guid": TILE, "level": "tile", "area_km2": "2621.44"}]}
    assert with_resolved_selection(payload, facts) == {"tile_guids": [TILE], "model": "Stratus2"}
    facts = {"cells": [{"guid": MINI, "level": "minitile", "area_km2": "10.24"}]}
    assert with_resolved_selection(payload, facts) == {"minitile_guids": [MINI], "model": "Stratus2"}


def test_the_kept_grid_payload_is_the_resolved_selection():
    item = StoredOrderItem.model_validate({**pascal_item(), "aoi_id": None, "tile_guids": [TILE],
                                           "minitile_guids": [MINI]})
    facts = {"cells": [{"guid": TILE, "level": "tile", "area_km2": "2621.44"}]}
    kept = kept_payload(item, facts)
    assert kept["tile_guids"] == [TILE] and "minitile_guids" not in kept
    polygon = StoredOrderItem.model_validate(pascal_item())
    assert kept_payload(polygon, {}) == stored_payload(polygon)
