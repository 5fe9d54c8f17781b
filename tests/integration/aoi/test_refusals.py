"""One HTTP refusal per code of shared.geo.ERROR_CODES: status, stable `code`, a message naming the rule,
and nothing stored (no AOI row, no outbox row)."""
from __future__ import annotations

import json

import pytest
import shapely

from shared.geo import ERROR_CODES
from tests.support.archives import zip_bytes

from .conftest import box
from .files import circle_wkt, kml_polygon, ring, shapefile_members

pytestmark = pytest.mark.integration


def _collection(n: int) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
            ring(10 + 0.2 * i, 50.0, 10.1 + 0.2 * i, 50.1)]}} for i in range(n)]})


XXE = ('<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
       '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&x;</name>'
       + kml_polygon(ring(10, 50, 10.1, 50.1)) + '</Placemark></kml>')

# code -> (status, body, content type, text the message must contain)
TEXT_CASES = {
    "unknown_format": (422, b"hello, this is not a map", "text/plain", "not a format we can read"),
    "unreadable": (422, b'{"type": "Polygon", "coordinates": [[[10, 50], [10.1', "application/json", "malformed"),
    "empty_input": (422, b"", "text/plain", "empty"),
    "no_polygon": (422, b"POINT (10 50)", "application/wkt", "no polygon"),
    "invalid_ring": (422, b"POLYGON((10 50, 10.1 50.1, 10.1 50, 10 50.1, 10 50))", "text/plain", "self-intersects"),
    "coordinates_out_of_range": (422, box(500000, 5500000, 510000, 5510000).encode(), "text/plain", "projected metres"),
    "latitude_out_of_range": (422, box(10, 85, 10.1, 85.1).encode(), "text/plain", "-80..84"),
    # a diagonal strip across the 0.1° × 0.1° box: about 4 % of its bounding box
    "sliver": (422, b"POLYGON((10 50, 10.002 50, 10.1 50.098, 10.1 50.1, 10.098 50.1, 10 50.002, 10 50))",
               "text/plain", "5 %"),
    # 0.001° of latitude is about 111 m
    "bbox_side_too_short": (422, box(10, 50, 10.1, 50.001).encode(), "text/plain", "150"),
    "too_many_parts": (422, _collection(51).encode(), "application/geo+json", "max_parts"),
    "too_many_vertices": (422, circle_wkt(10, 50, 0.1, 20_001).encode(), "text/plain", "max_vertices"),
    # 20° × 20° at the equator is about 4.9 million km², over the 1,000,000 km² limit
    "area_too_large": (422, box(0, 0, 20, 20).encode(), "text/plain", "max_total_area_km2"),
    "xml_external_entity": (422, XXE.encode(), "application/vnd.google-earth.kml+xml", ""),
    "crs_unknown": (422, b"SRID=999999;" + box(10, 50, 10.1, 50.1).encode(), "text/plain", "999999"),
}


async def _refused(aoi, stored, account, status, code, **request):
    before = await stored.outbox()
    r = await aoi.client.post("/v1/aois", headers={**aoi.auth(account), **request.pop("headers", {})}, **request)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    assert await stored.aois(account) == 0
    assert await stored.outbox() == before
    return body


@pytest.mark.parametrize("code", sorted(TEXT_CASES))
async def test_refusal_over_http_stores_nothing(aoi, stored, unique, code):
    status, data, ctype, needle = TEXT_CASES[code]
    body = await _refused(aoi, stored, f"acct-{unique}", status, code, content=data,
                          headers={"content-type": ctype})
    assert needle in body["detail"]
    if code == "xml_external_entity":
        assert "root:" not in body["detail"]


async def test_upload_over_the_size_limit_is_413_naming_the_limit(aoi, stored, unique):
    data = b" " * 1_000 + box(10, 50, 10.1, 50.1).encode() + b" " * 2_000_000
    body = await _refused(aoi, stored, f"acct-{unique}", 413, "upload_too_large", content=data,
                          headers={"content-type": "text/plain"})
    assert "max_upload_bytes" in body["detail"] and "2,000,000" in body["detail"]


async def test_streamed_upload_without_length_is_cut_off_at_the_limit(aoi, stored, unique):
    async def chunks():
        for _ in range(100):  # 6.4 MB in 64 KiB chunks, no Content-Length
            yield b" " * 65536
    body = await _refused(aoi, stored, f"acct-{unique}", 413, "upload_too_large", content=chunks(),
                          headers={"content-type": "text/plain"})
    assert body["where"]["limit"] == "max_upload_bytes"


async def test_multipart_file_over_the_size_limit_is_413(aoi, stored, unique):
    data = box(10, 50, 10.1, 50.1).encode() + b"\n" * 2_000_001
    await _refused(aoi, stored, f"acct-{unique}", 413, "upload_too_large",
                   files={"file": ("big.wkt", data, "text/plain")})


async def test_zip_bomb_is_413_naming_the_uncompressed_limit(aoi, stored, unique):
    bomb = zip_bytes({"aoi.geojson": b" " * 6_000_000})  # ~6 kB compressed, 6 MB expanded
    body = await _refused(aoi, stored, f"acct-{unique}", 413, "archive_too_large",
                          files={"file": ("aoi.zip", bomb, "application/zip")})
    assert "max_" in body["detail"]


async def test_bare_shp_is_refused_as_incomplete_shapefile(aoi, stored, unique, tmp_path):
    shp = shapefile_members(tmp_path, "fields", [shapely.box(10, 50, 10.1, 50.1)])["fields.shp"]
    body = await _refused(aoi, stored, f"acct-{unique}", 422, "incomplete_shapefile",
                          files={"file": ("fields.shp", shp, "application/octet-stream")})
    assert ".zip" in body["detail"]


async def test_zip_member_outside_the_archive_is_refused_naming_it(aoi, stored, unique, tmp_path):
    members = shapefile_members(tmp_path, "fields", [shapely.box(10, 50, 10.1, 50.1)])
    evil = zip_bytes({**members, "../../etc/passwd": b"root:x:0:0"})
    body = await _refused(aoi, stored, f"acct-{unique}", 422, "unsafe_archive_path",
                          files={"file": ("aoi.zip", evil, "application/zip")})
    assert body["where"]["member"] == "../../etc/passwd" and "../../etc/passwd" in body["detail"]


def test_every_code_that_http_can_provoke_has_a_test():
    covered = set(TEXT_CASES) | {"upload_too_large", "archive_too_large", "incomplete_shapefile",
                                 "unsafe_archive_path"}
    assert covered == set(ERROR_CODES)


async def test_validate_refuses_with_the_same_code(aoi, unique):
    r = await aoi.client.post("/v1/aois:validate", headers=aoi.auth(f"acct-{unique}"),
                              content=b"POLYGON((10 50, 10.1 50.1, 10.1 50, 10 50.1, 10 50))")
    assert r.status_code == 422 and r.json()["code"] == "invalid_ring"
    assert r.json()["where"]["coordinate"] == [10.05, 50.05]


async def test_routes_need_a_token(aoi):
    for method, path in [("POST", "/v1/aois"), ("POST", "/v1/aois:validate"), ("GET", "/v1/aois"),
                         ("GET", "/v1/aois/x"), ("POST", "/v1/aois:search")]:
        r = await aoi.client.request(method, path, content=box(10, 50, 10.1, 50.1))
        assert r.status_code == 401, (method, path)
        assert r.json()["code"] == "unauthenticated"


async def test_bad_options_are_422(aoi, stored, unique):
    r = await aoi.client.post("/v1/aois?repair=maybe", headers=aoi.auth(f"acct-{unique}"),
                              content=box(10, 50, 10.1, 50.1))
    assert r.status_code == 422 and r.json()["code"] == "invalid_option"
    assert await stored.aois(f"acct-{unique}") == 0
