"""The shared order-item payload and its configuration rules (docs/domain.md, Shared vocabulary
and Configuration)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.vocabulary import OrderItem, StoredOrderItem, check_configuration

TILE = "00000000-0000-8000-8000-000000000001"
MINI = "00000000-0000-8000-8000-000000000002"


def snake(**overrides):
    payload = {
        "aoi_id": "aoi-1",
        "model": "Stratus2",
        "constellations": ["Sentinel1", "Sentinel2", "Landsat89"],
        "from": "2025-04-01",
        "to": "2025-04-30",
        "image_frequency": 3,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not ...}


def errors(payload, model=OrderItem):
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


def test_a_pascal_case_provider_payload_parses():
    item = OrderItem.model_validate({
        "TileGuids": [TILE], "MiniTileGuids": [MINI], "Model": "Stratus2Fast",
        "SatelliteConstellations": ["Sentinel1", "Sentinel2"], "From": "2025-04-01", "To": None,
        "ImageFrequency": 3, "ReferenceDate": "2025-01-01", "StorageMonths": 2, "ApiRequests": 3,
        "TileDeduplication": True, "SimulatedEuroUsage": "1200.50", "SomeProviderField": "ignored",
    })
    assert item.tile_guids == [TILE] and item.minitile_guids == [MINI]
    assert (item.model, item.from_, item.to, item.image_frequency) == ("Stratus2Fast", date(2025, 4, 1), None, 3)
    assert (item.storage_months, item.api_requests, item.tile_deduplication) == (2, 3, True)
    assert item.simulated_spend == Decimal("1200.50")
    assert item.aoi_mode == "grid" and item.is_recurring


def test_defaults_and_reference_date_defaulting_to_from():
    item = OrderItem.model_validate(snake())
    assert (item.storage_months, item.api_requests, item.tile_deduplication, item.reference_date) == (1, 1, False, None)
    assert item.effective_reference_date == date(2025, 4, 1)


def test_dumps_with_snake_case_names_and_from():
    dumped = OrderItem.model_validate(snake()).model_dump(mode="json", exclude_none=True)
    assert dumped["from"] == "2025-04-01" and dumped["image_frequency"] == 3


def test_python_code_can_use_the_field_names():
    item = OrderItem(aoi_id="a", model="Nimbus", constellations=["Sentinel2"], from_=date(2025, 4, 1),
                     image_frequency=1)
    assert item.from_ == date(2025, 4, 1)


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"to": "2025-03-31"}, "to", "before 'from'"),
        ({"from": "2025-04-02", "to": None}, "from", "1st of a month"),
        ({"image_frequency": 0}, "image_frequency", "between 1"),
        ({"image_frequency": 8}, "image_frequency", "between 1"),
        ({"model": "Stratus2Fast", "constellations": ["Sentinel1"]}, "constellations", "requires Sentinel2"),
        ({"model": "Stratus2", "constellations": ["Sentinel1", "Sentinel2"]}, "constellations", "requires Landsat89"),
        ({"model": "Nimbus", "constellations": ["Sentinel1"]}, "constellations", "requires Sentinel2"),
        ({"constellations": ["Sentinel1", "Sentinel1", "Sentinel2", "Landsat89"]}, "constellations", "repeat"),
        ({"storage_months": 0}, "storage_months", "at least 1"),
        ({"api_requests": 0}, "api_requests", "at least 1"),
        ({"tile_deduplication": True}, "tile_deduplication", "grid orders only"),
    ],
)
def test_each_configuration_rule_names_its_field(overrides, field, words):
    [(loc, message)] = errors(snake(**overrides))
    assert loc == (field,)
    assert words in message


def test_the_error_names_the_alias_the_client_used():
    [(loc, _)] = errors({"AoiId": None, "aoi_id": "a", "Model": "Stratus2", "SatelliteConstellations":
                         ["Sentinel1", "Sentinel2", "Landsat89"], "From": "2025-04-01", "ImageFrequency": 9})
    assert loc == ("ImageFrequency",)


def test_a_constellation_the_model_does_not_allow_is_named():
    # The catalogue has no such input for any model; the enum refuses it at the constellations field.
    [(loc, _)] = errors(snake(constellations=["Sentinel1", "Sentinel2", "Landsat89", "Sentinel3"]))
    assert loc[0] == "constellations"


def test_check_configuration_reports_every_rule_for_the_cart():
    issues = check_configuration(model="Stratus2Fast", constellations=["Sentinel2"], from_=date(2025, 4, 2),
                                 to=date(2025, 4, 1), image_frequency=9, storage_months=0, api_requests=0)
    assert [i.field for i in issues] == ["from", "to", "image_frequency", "constellations", "storage_months",
                                         "api_requests"]
    assert check_configuration(model="Nimbus", constellations=["Sentinel2", "Landsat89"], from_=date(2025, 4, 1),
                               to=None, image_frequency=7) == []


def test_mixing_polygon_and_grid_is_refused_with_a_clear_message():
    [(loc, message)] = errors(snake(tile_guids=[TILE]))
    assert loc == () and "either polygon mode" in message and "not both" in message


def test_two_polygon_aois_are_refused():
    [(_, message)] = errors(snake(wkt="POLYGON((0 0,1 0,1 1,0 0))"))
    assert "exactly one of aoi_id, wkt, geojson" in message


def test_no_aoi_is_refused():
    [(_, message)] = errors(snake(aoi_id=...))
    assert "no AOI given" in message


def test_an_empty_grid_selection_is_refused():
    [(_, message)] = errors(snake(aoi_id=..., tile_guids=[], minitile_guids=[]))
    assert "empty" in message


def test_a_repeated_guid_is_refused():
    [(loc, message)] = errors(snake(aoi_id=..., minitile_guids=[MINI, MINI]))
    assert loc == ("minitile_guids",) and MINI in message


def test_guids_in_any_uuid_spelling_become_canonical_strings():
    upper = "7E550100-2100-8004-803C-00004E41F4C2"
    canonical = upper.lower()
    spellings = [upper, "{" + canonical + "}", "urn:uuid:" + canonical, canonical.replace("-", "")]
    for spelling in spellings:
        assert OrderItem.model_validate(snake(aoi_id=..., tile_guids=[spelling, TILE])).tile_guids == [canonical, TILE]
    # the same GUID in two spellings is one GUID listed twice
    [(loc, message)] = errors(snake(aoi_id=..., tile_guids=[canonical, upper]))
    assert loc == ("tile_guids",) and canonical in message
    [(loc, message)] = errors(snake(aoi_id=..., tile_guids=[canonical], minitile_guids=[TILE, upper]))
    assert loc == () and "both as a tile and as a minitile" in message and canonical in message


@pytest.mark.parametrize("bad, index, says", [
    (["zz"], 1, "invalid character"),
    ([TILE[:8] + "x" + TILE[9:]], 1, "invalid character"),  # a hyphen's place taken
    ([TILE[:35] + "é"], 1, "invalid character"),
    ([TILE + "\n" + MINI], 1, "invalid length"),  # two GUIDs in one string
    ([TILE[:-1]], 1, "invalid group length"),
    ([7], 1, "should be a string"),
])
def test_a_broken_guid_is_named_by_its_index(bad, index, says):
    [(loc, message)] = errors(snake(aoi_id=..., tile_guids=[MINI, *bad]))
    assert loc == ("tile_guids", index) and says in message


def test_cart_items_refuse_inline_geometry_and_simulated_spend():
    [(_, message)] = errors(snake(aoi_id=..., geojson={"type": "Polygon", "coordinates": []}), StoredOrderItem)
    assert "estimates only" in message and "aoi_id" in message
    [(_, message)] = errors(snake(SimulatedEuroUsage="5"), StoredOrderItem)
    assert "simulated_spend" in message


def test_negative_simulated_spend_is_refused():
    [(loc, _)] = errors(snake(simulated_spend="-1"))
    assert loc == ("simulated_spend",)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.uuids(), st.sampled_from(["canonical", "upper", "braces", "urn", "hex"])),
                min_size=1, max_size=40, unique_by=lambda pair: pair[0]))
def test_the_bulk_guid_check_agrees_with_uuid(pairs):
    spell = {"canonical": str, "upper": lambda u: str(u).upper(), "braces": lambda u: "{" + str(u) + "}",
             "urn": lambda u: u.urn, "hex": lambda u: u.hex}
    item = OrderItem.model_validate(snake(aoi_id=..., minitile_guids=[spell[how](u) for u, how in pairs]))
    assert item.minitile_guids == [str(u) for u, _ in pairs]
