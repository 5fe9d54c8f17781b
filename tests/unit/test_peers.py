"""The one client per peer (shared/peers.py): how each reads its peer's answer and how each failure of
the AOI, tiling and pricing services is answered."""
import asyncio
import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from shared.peers import AoiClient, PeerRefusal, PricingClient, TilingClient, parse_stored_aoi
from shared.problems import Problem

BODY = {"id": "a1", "geometry": {"type": "Polygon", "coordinates": [[[10, 50], [10.1, 50], [10.1, 50.1], [10, 50]]]},
        "report": {"parts": [{"index": 1, "kind": "Polygon", "area_km2": 79.6612345678},
                             {"index": 2, "kind": "Polygon", "area_km2": "0.2", "billable_km2": "0.5"}],
                   "totals": {"area_km2": "79.861235"}}}


def client(status: int, body=None, *, error: Exception | None = None) -> AoiClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if error:
            raise error
        assert request.url.raw_path == b"/v1/aois/a%2F1"  # the id is quoted, never a path of its own
        assert request.headers["authorization"] == "Bearer t"
        return httpx.Response(status, json=body)
    return AoiClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), "http://aoi/", 1.0)


def test_parts_are_labelled_by_kind_and_index_with_areas_to_the_square_metre():
    aoi = parse_stored_aoi("a1", BODY)
    assert [(p.label, p.area_km2, p.billable_km2) for p in aoi.parts] == [
        ("Polygon 1", Decimal("79.661235"), None), ("Polygon 2", Decimal("0.2"), Decimal("0.5"))]
    assert aoi.geometry["type"] == "Polygon" and aoi.totals == {"area_km2": "79.861235"}


async def test_a_stored_aoi_is_read_as_the_caller():
    aoi = await client(200, BODY).get("a/1", "Bearer t")
    assert [p.label for p in aoi.parts] == ["Polygon 1", "Polygon 2"]


@pytest.mark.parametrize("status,body,error,expected", [
    (404, {"title": "Not found"}, None, (422, "unknown_aoi")),
    (410, None, None, (422, "unknown_aoi")),
    (500, None, None, (503, "aoi_service_unavailable")),
    (429, None, None, (503, "aoi_service_unavailable")),
    (0, None, httpx.ConnectError("refused"), (503, "aoi_service_unavailable")),
    (200, {"report": {"parts": []}}, None, (502, "aoi_service_bad_response")),
    (200, {"report": {"parts": [{"index": 1, "area_km2": "many"}]}}, None, (502, "aoi_service_bad_response")),
])
async def test_each_failure_of_the_aoi_service_has_one_answer(status, body, error, expected):
    with pytest.raises(Problem) as refused:
        await client(status, body, error=error).get("a/1", "Bearer t", field_name="items.0.aoi_id")
    assert (refused.value.status, refused.value.code) == expected
    if expected[0] == 422:
        assert refused.value.body("/")["errors"] == [{"field": "items.0.aoi_id", "message": refused.value.body("/")
                                                      ["errors"][0]["message"]}]
        assert "upload it first" in refused.value.detail


# ------------------------------------------------------------------------------ tiling

TILE = "7e550100-2100-800c-806b-000017c28736"
MINI = "7e550101-2100-800c-806b-8900eaf8b077"
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
RESOLVED = {"tiles": [{"guid": TILE, "code": "33N-C0012-R0107", "zone": "33N", "epsg": 32633, "area_km2": 2621.44,
                       "footprint": SQUARE}],
            "minitiles": [{"guid": MINI, "area_km2": "10.24"}],
            "warnings": [{"code": "folded", "message": "a minitile of a selected tile was folded in"}]}


def tiling(status: int, body=None, *, error: Exception | None = None, path: str = "/v1/tiles/resolve",
           delay: float = 0.0) -> TilingClient:
    async def handler(request: httpx.Request) -> httpx.Response:
        if error:
            raise error
        if delay:
            await asyncio.sleep(delay)
        assert request.url.path == path and request.headers["authorization"] == "Bearer t"
        seen.append(json.loads(request.content))
        return httpx.Response(status, json=body) if body is not None else httpx.Response(status, text="down")
    seen: list = []
    client = TilingClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), "http://tiling/", 0.2)
    client.seen = seen  # what tiling was sent, for the tests to read
    return client


async def test_a_grid_selection_is_resolved_into_typed_cells():
    client = tiling(200, RESOLVED)
    got = await client.resolve([TILE], [MINI], "Bearer t")
    assert client.seen == [{"tile_guids": [TILE], "minitile_guids": [MINI]}]
    assert [(c.guid, c.level, c.area_km2, c.code) for c in got.cells] == [
        (TILE, "tile", Decimal("2621.44"), "33N-C0012-R0107"), (MINI, "minitile", Decimal("10.24"), None)]
    assert got.cells[0].footprint == SQUARE and got.warnings == tuple(RESOLVED["warnings"])


REFUSED = {"detail": "tile_guids.0 nope: not a tile", "errors": [{"field": "tile_guids.0", "message": "not a tile"}]}


@pytest.mark.parametrize("status,body,error,expected", [
    (422, REFUSED, None, (422, "invalid_grid_selection", "the grid selection cannot be resolved: tile_guids.0 nope")),
    (404, {"title": "Not found"}, None, (422, "invalid_grid_selection", "cannot be resolved: Not found")),
    (400, None, None, (422, "invalid_grid_selection", "cannot be resolved: down")),
    (429, None, None, (503, "tiling_service_unavailable", "the tiling service answered 429 (down); nothing was")),
    (401, None, None, (503, "tiling_service_unavailable", "answered 401")),
    (500, None, None, (503, "tiling_service_unavailable", "answered 500")),
    (0, None, httpx.ConnectError("refused"), (503, "tiling_service_unavailable", "the tiling service did not "
                                              "answer while resolving the grid selection; nothing was changed")),
    (0, None, httpx.ReadTimeout("slow"), (503, "tiling_service_unavailable", "did not answer")),
    (200, [], None, (502, "tiling_service_bad_response", "the tiling service's answer for the grid selection is "
                                                         "unusable: the body is not a JSON object")),
    (200, {"tiles": [], "minitiles": []}, None, (502, "tiling_service_bad_response", "to no cells")),
    (200, {"tiles": {"guid": TILE}}, None, (502, "tiling_service_bad_response", "'tiles' is not a list")),
    (200, {"tiles": [{"guid": TILE}]}, None, (502, "tiling_service_bad_response", "a resolved tile lacks its guid")),
    (200, {"minitiles": [{"guid": MINI, "area_km2": "many"}]}, None,
     (502, "tiling_service_bad_response", "a resolved minitile has an area that is not a number")),
])
async def test_each_failure_to_resolve_a_selection_has_one_answer(status, body, error, expected):
    with pytest.raises(Problem) as refused:
        await tiling(status, body, error=error).resolve([TILE], [], "Bearer t")
    assert (refused.value.status, refused.value.code) == expected[:2]
    assert expected[2] in refused.value.detail


async def test_a_refused_selection_keeps_the_peers_errors_or_names_the_field_sent():
    with pytest.raises(PeerRefusal) as named:
        await tiling(422, REFUSED).resolve([TILE], [], "Bearer t")
    assert named.value.body("/")["errors"] == REFUSED["errors"]
    assert (named.value.peer_status, named.value.peer_detail) == (422, REFUSED["detail"])
    with pytest.raises(PeerRefusal) as unnamed:
        await tiling(404, {"detail": "no such cell"}).resolve([], [MINI], "Bearer t")
    assert unnamed.value.body("/")["errors"] == [{"field": "minitile_guids", "message": "no such cell"}]


APRIL = [date(2025, 4, 1), date(2025, 4, 4)]
PREVIEW = {"owned": [{"guid": TILE.upper(), "dates": ["2025-04-01", "2025-05-01"]}],
           "warnings": [{"code": "w", "message": "reserved by a running checkout"}, "plain"]}


async def test_the_coverage_preview_keeps_only_the_asked_dates_of_each_owned_cell():
    client = tiling(200, PREVIEW, path="/v1/coverage/preview")
    got = await client.coverage_preview("Stratus2", ["Sentinel2"], [TILE], APRIL, "Bearer t")
    assert client.seen == [{"model": "Stratus2", "constellations": ["Sentinel2"], "cells": [TILE],
                            "dates": ["2025-04-01", "2025-04-04"]}]
    assert got.owned == {TILE: frozenset({date(2025, 4, 1)})}
    assert got.warnings == ("reserved by a running checkout", "plain")


@pytest.mark.parametrize("status,body,error,delay,expected", [
    (422, REFUSED, None, 0.0, (422, "invalid_coverage_preview")),
    (503, None, None, 0.0, (503, "tiling_service_unavailable")),
    (0, None, httpx.ConnectError("refused"), 0.0, (503, "tiling_service_unavailable")),
    (200, PREVIEW, None, 1.0, (503, "tiling_service_unavailable")),  # over the whole budget (0.2 s)
    (200, {"owned": [{"guid": "not-a-uuid", "dates": []}]}, None, 0.0, (502, "tiling_service_bad_response")),
    (200, {"owned": [{"guid": TILE, "dates": ["April"]}]}, None, 0.0, (502, "tiling_service_bad_response")),
    (200, {"owned": [{"dates": []}]}, None, 0.0, (502, "tiling_service_bad_response")),
    (200, [], None, 0.0, (502, "tiling_service_bad_response")),
])
async def test_each_failure_of_the_coverage_preview_has_one_answer(status, body, error, delay, expected):
    client = tiling(status, body, error=error, path="/v1/coverage/preview", delay=delay)
    with pytest.raises(Problem) as refused:
        await client.coverage_preview("Stratus2", ["Sentinel2"], [TILE], APRIL, "Bearer t")
    assert (refused.value.status, refused.value.code) == expected


# ------------------------------------------------------------------------------ pricing

ESTIMATE = {"total": "159.33", "currency": "EUR", "lines": []}


def pricing(status: int, body=None, *, error: Exception | None = None) -> PricingClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if error:
            raise error
        assert request.url.path == "/v1/estimates" and request.headers["authorization"] == "Bearer t"
        assert json.loads(request.content) == {"items": [{"item_id": "i1"}]}
        return httpx.Response(status, json=body) if body is not None else httpx.Response(status, text="<html>")
    return PricingClient(httpx.AsyncClient(transport=httpx.MockTransport(handler)), "http://pricing", 1.0)


async def test_an_estimate_is_pricings_json_object():
    assert await pricing(201, ESTIMATE).estimate([{"item_id": "i1"}], "Bearer t") == ESTIMATE


@pytest.mark.parametrize("status,body,error,expected", [
    (422, {"detail": "items.0.to: before from"}, None, (422, "estimate_refused")),
    (429, None, None, (422, "estimate_refused")),
    (500, None, None, (503, "pricing_service_unavailable")),
    (0, None, httpx.ReadTimeout("slow"), (503, "pricing_service_unavailable")),
    (0, None, httpx.ConnectError("refused"), (503, "pricing_service_unavailable")),
    (201, None, None, (502, "pricing_service_bad_response")),
    (201, ["not", "an", "object"], None, (502, "pricing_service_bad_response")),
])
async def test_each_failure_of_pricing_has_one_answer(status, body, error, expected):
    with pytest.raises(Problem) as refused:
        await pricing(status, body, error=error).estimate([{"item_id": "i1"}], "Bearer t")
    assert (refused.value.status, refused.value.code) == expected
    if isinstance(refused.value, PeerRefusal):
        assert refused.value.peer_status == status
        assert refused.value.peer_detail == ("items.0.to: before from" if body else "<html>")
