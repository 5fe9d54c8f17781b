"""Every request shape of POST /v1/aois and POST /v1/aois:validate, against the real service."""
from __future__ import annotations

import json

import pytest
import shapely
from pyproj import Transformer

from tests.support.archives import zip_bytes

from .conftest import box
from .files import kml, kml_polygon, ring, shapefile_members

pytestmark = pytest.mark.integration

BOX_KM2 = 79.66  # 10.0–10.1 E × 50.0–50.1 N, geodesic on WGS84 (the README's walk-through)
BOX_WKT = box(10.0, 50.0, 10.1, 50.1)
BOX_GEOJSON = {"type": "Polygon", "coordinates": [ring(10.0, 50.0, 10.1, 50.1)]}


def _one_box(body: dict) -> None:
    parts = body["report"]["parts"]
    assert len(parts) == 1
    assert parts[0]["area_km2"] == pytest.approx(BOX_KM2, abs=0.005)
    assert parts[0]["billable_km2"] == pytest.approx(BOX_KM2, abs=0.005)
    assert parts[0]["bbox"] == pytest.approx([10.0, 50.0, 10.1, 50.1])
    assert body["geometry"]["type"] == "GeometryCollection"


async def test_raw_wkt_text_creates_an_aoi(aoi, stored, unique):
    acct = f"acct-{unique}"
    r = await aoi.client.post("/v1/aois?name=field%201", headers={**aoi.auth(acct), "content-type": "text/plain"},
                              content=BOX_WKT)
    assert r.status_code == 201, r.text
    body = r.json()
    assert r.headers["location"] == f"/v1/aois/{body['id']}"
    assert body["account_id"] == acct and body["name"] == "field 1" and body["created_at"]
    assert body["source_format"] == "wkt"
    _one_box(body)
    part = body["report"]["parts"][0]
    # 0.1° of longitude at 50.1° N ≈ 7.15 km; 0.1° of latitude ≈ 11.12 km; a rectangle fills its bbox
    assert part["bbox_width_m"] == pytest.approx(7155, abs=5)
    assert part["bbox_height_m"] == pytest.approx(11123, abs=5)
    assert part["fill_ratio"] == pytest.approx(1.0)
    assert part["vertex_count"] == 5 and part["kind"] == "Polygon" and part["index"] == 1
    assert body["report"]["totals"]["parts"] == 1 and body["report"]["warnings"] == []
    assert await stored.aois(acct) == 1


async def test_ewkt_in_utm_is_reprojected(aoi, unique):
    to_utm = Transformer.from_crs(4326, 32632, always_xy=True)
    utm = shapely.transform(shapely.box(10.0, 50.0, 10.1, 50.1).segmentize(0.001),
                            lambda xy: __import__("numpy").column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
    r = await aoi.client.post("/v1/aois", headers={**aoi.auth(f"acct-{unique}"), "content-type": "application/wkt"},
                              content=f"SRID=32632;{utm.wkt}")
    assert r.status_code == 201, r.text
    assert r.json()["report"]["parts"][0]["area_km2"] == pytest.approx(BOX_KM2, abs=0.01)


@pytest.mark.parametrize("doc", [
    {"Wkt": BOX_WKT},
    {"wkt": BOX_WKT, "name": "wrapped"},
    {"GeoJson": BOX_GEOJSON},
    {"geojson": json.dumps(BOX_GEOJSON)},
    {"GEOJSON": {"type": "Feature", "properties": {}, "geometry": BOX_GEOJSON}},
    BOX_GEOJSON,
    {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": BOX_GEOJSON}]},
])
async def test_json_bodies_and_wrappers(aoi, unique, doc):
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(f"acct-{unique}"), json=doc)
    assert r.status_code == 201, r.text
    _one_box(r.json())
    if doc.get("name"):
        assert r.json()["name"] == "wrapped"


async def test_json_wrapper_carries_options(aoi, unique):
    bowtie = "POLYGON((10 50, 10.1 50.1, 10.1 50, 10 50.1, 10 50))"
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(f"acct-{unique}"), json={"Wkt": bowtie, "Repair": True})
    assert r.status_code == 201, r.text
    assert [w["code"] for w in r.json()["report"]["warnings"]] == ["repaired"]


async def test_multipart_zipped_shapefile_in_a_projected_crs(aoi, stored, unique, tmp_path):
    acct = f"acct-{unique}"
    to_utm = Transformer.from_crs(4326, 32632, always_xy=True)
    import numpy as np
    utm = shapely.transform(shapely.box(10.0, 50.0, 10.1, 50.1).segmentize(0.001),
                            lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
    other = shapely.transform(shapely.box(11.0, 50.0, 11.1, 50.1).segmentize(0.001),
                              lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1])))
    members = shapefile_members(tmp_path, "fields", [utm, other], crs="EPSG:32632")
    assert "fields.prj" in members
    bundle = zip_bytes({f"export/layers/{k}": v for k, v in members.items()})
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(acct),
                              files={"file": ("fields.zip", bundle, "application/zip")},
                              data={"name": "two fields"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["source_format"] == "shapefile_zip" and body["name"] == "two fields"
    parts = body["report"]["parts"]
    assert len(parts) == 2
    assert parts[0]["area_km2"] == pytest.approx(BOX_KM2, abs=0.01)
    # 10.0–10.1 E and 11.0–11.1 E at the same latitudes have the same geodesic area
    assert parts[1]["area_km2"] == pytest.approx(BOX_KM2, abs=0.01)
    assert body["report"]["totals"]["area_km2"] == pytest.approx(2 * BOX_KM2, abs=0.02)
    assert await stored.aois(acct) == 1


async def test_multipart_kml_with_a_point_dropped(aoi, unique):
    doc = kml(kml_polygon(ring(10.0, 50.0, 10.1, 50.1)), "<Point><coordinates>10,50</coordinates></Point>")
    r = await aoi.client.post("/v1/aois?dissolve=false", headers=aoi.auth(f"acct-{unique}"),
                              files={"file": ("aoi.kml", doc.encode(), "application/vnd.google-earth.kml+xml")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["source_format"] == "kml" and body["name"] == "aoi.kml"
    _one_box(body)
    assert [(w["code"], w["count"]) for w in body["report"]["warnings"]] == [("dropped_non_polygon", 1)]


async def test_multipart_kmz(aoi, unique):
    kmz = zip_bytes({"doc.kml": kml(kml_polygon(ring(10.0, 50.0, 10.1, 50.1))).encode()})
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(f"acct-{unique}"),
                              files={"file": ("aoi.kmz", kmz, "application/vnd.google-earth.kmz")})
    assert r.status_code == 201, r.text
    assert r.json()["source_format"] == "kmz"
    _one_box(r.json())


async def test_raw_kml_body(aoi, unique):
    doc = kml(kml_polygon(ring(10.0, 50.0, 10.1, 50.1)))
    r = await aoi.client.post("/v1/aois", headers={**aoi.auth(f"acct-{unique}"),
                                                   "content-type": "application/vnd.google-earth.kml+xml"},
                              content=doc.encode())
    assert r.status_code == 201, r.text
    _one_box(r.json())


async def test_octet_stream_body_detected_from_content(aoi, unique, tmp_path):
    bundle = zip_bytes(shapefile_members(tmp_path, "f", [shapely.box(10.0, 50.0, 10.1, 50.1)]))
    r = await aoi.client.post("/v1/aois", headers={**aoi.auth(f"acct-{unique}"),
                                                   "content-type": "application/octet-stream"}, content=bundle)
    assert r.status_code == 201, r.text
    _one_box(r.json())


async def test_small_part_is_billed_at_the_minimum(aoi, unique):
    # 0.005° × 0.005° at 50° N ≈ 0.36 × 0.56 km ≈ 0.2 km²: billed as 0.5 km²
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(f"acct-{unique}"), content=box(10, 50, 10.005, 50.005))
    assert r.status_code == 201, r.text
    part = r.json()["report"]["parts"][0]
    assert part["area_km2"] < 0.5 and part["billable_km2"] == 0.5


async def test_validate_returns_the_report_and_stores_nothing(aoi, stored, unique):
    acct = f"acct-{unique}"
    before = await stored.outbox()
    r = await aoi.client.post("/v1/aois:validate", headers=aoi.auth(acct), content=BOX_WKT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is True and "id" not in body
    _one_box(body)
    r = await aoi.client.post("/v1/aois:validate", headers=aoi.auth(acct),
                              files={"file": ("a.kml", kml(kml_polygon(ring(10, 50, 10.1, 50.1))).encode())})
    assert r.status_code == 200, r.text
    assert await stored.aois(acct) == 0
    assert await stored.outbox() == before


async def test_idempotency_key_replays_the_same_aoi(aoi, stored, unique):
    acct = f"acct-{unique}"
    headers = {**aoi.auth(acct), "Idempotency-Key": f"k-{unique}"}
    first = await aoi.client.post("/v1/aois?name=a", headers=headers, content=BOX_WKT)
    again = await aoi.client.post("/v1/aois?name=a", headers=headers, content=BOX_WKT)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert await stored.aois(acct) == 1
    # the key keeps a small answer (the id), not the AOI: a replay reads the AOI again
    kept = await stored.db.fetchval("SELECT body FROM idempotency_keys WHERE account_id = $1 AND key = $2",
                                    acct, f"k-{unique}")
    assert json.loads(kept) == {"id": first.json()["id"]}
    # another account may use the same key
    other = await aoi.client.post("/v1/aois?name=a", headers={**aoi.auth(f"other-{unique}"),
                                                               "Idempotency-Key": f"k-{unique}"}, content=BOX_WKT)
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    # the same key with a different upload is refused
    reused = await aoi.client.post("/v1/aois", headers=headers, content=box(11, 50, 11.1, 50.1))
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert await stored.aois(acct) == 1


async def test_concurrent_requests_with_one_key_store_one_aoi(aoi, stored, unique):
    import asyncio
    acct = f"acct-{unique}"
    headers = {**aoi.auth(acct), "Idempotency-Key": "same"}
    rs = await asyncio.gather(*(aoi.client.post("/v1/aois", headers=headers, content=BOX_WKT) for _ in range(5)))
    assert {r.status_code for r in rs} == {201}
    assert len({r.json()["id"] for r in rs}) == 1
    assert await stored.aois(acct) == 1


@pytest.mark.parametrize("key", ["", "k" * 256, "k\tey"])
async def test_an_idempotency_key_is_1_to_255_printable_characters(aoi, stored, unique, key):
    acct = f"acct-{unique}"
    r = await aoi.client.post("/v1/aois", headers={**aoi.auth(acct), "Idempotency-Key": key}, content=BOX_WKT)
    assert r.status_code == 422 and r.json()["code"] == "invalid_idempotency_key", r.text
    assert await stored.aois(acct) == 0
    longest = await aoi.client.post("/v1/aois", headers={**aoi.auth(acct), "Idempotency-Key": "k" * 255},
                                    content=BOX_WKT)
    assert longest.status_code == 201, longest.text


async def test_a_refused_upload_leaves_its_key_free(aoi, stored, unique):
    acct = f"acct-{unique}"
    headers = {**aoi.auth(acct), "Idempotency-Key": f"k-{unique}"}
    refused = await aoi.client.post("/v1/aois", headers=headers, content="POLYGON((nonsense")
    assert refused.status_code == 422, refused.text
    assert await stored.aois(acct) == 0
    r = await aoi.client.post("/v1/aois", headers=headers, content=BOX_WKT)
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers, r.text
