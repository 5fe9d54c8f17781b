"""The one AOI client: how it reads a stored AOI and how each failure of the AOI service is answered."""
from decimal import Decimal

import httpx
import pytest

from shared.peers import AoiClient, parse_stored_aoi
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
