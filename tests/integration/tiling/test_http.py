"""Grid routes over HTTP against the real service process. Figures worked by hand from docs/domain.md, The grid:
a tile is 51.2 km x 51.2 km = 2,621.44 km2 and holds 16 x 16 = 256 minitiles of 10.24 km2."""
from __future__ import annotations

import uuid

import pytest
from shapely.geometry import shape

from shared.grid import CellId

from .geometry import MINI, TILE_E0, TILE_N0, geojson, lonlat, minitile_block

pytestmark = pytest.mark.integration

TILE = CellId(33, False, 9, 100)  # 33N-C0009-R0100, whole (near 15 E, 46 N)
OTHER = CellId(33, False, 10, 100)


async def test_every_route_needs_a_token(tiling):
    assert (await tiling.client.get(f"/v1/tiles/{TILE.guid}")).status_code == 401
    assert (await tiling.client.post("/v1/tiles/resolve", json={"tile_guids": [TILE.guid]})).status_code == 401
    assert (await tiling.client.post("/v1/coverage/preview", json={})).status_code == 401


async def test_a_whole_tile_and_its_256_minitiles(tiling):
    h = tiling.auth("acct-http")
    r = await tiling.client.get(f"/v1/tiles/{TILE.guid}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["guid"] == TILE.guid
    assert body["code"] == "33N-C0009-R0100"
    assert body["zone"] == "33N" and body["epsg"] == 32633
    assert body["area_km2"] == pytest.approx(2621.44, abs=1e-6)
    fp = shape(body["footprint"])
    # the footprint's south-west corner is the tile's (E 460,800, N 5,120,000), to within a metre (~1e-5 deg)
    lon0, lat0 = lonlat(TILE_E0, TILE_N0)
    assert fp.bounds[1] == pytest.approx(lat0, abs=1e-5)
    assert min(x for x, y in fp.exterior.coords if abs(y - lat0) < 1e-4) == pytest.approx(lon0, abs=1e-5)

    r = await tiling.client.get(f"/v1/tiles/{TILE.guid}/minitiles", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["tiles"] == []
    assert len(body["minitiles"]) == 256
    assert {m["code"] for m in body["minitiles"]} == {f"33N-C0009-R0100-M{i:03d}" for i in range(256)}
    assert all(m["area_km2"] == pytest.approx(10.24, abs=1e-9) for m in body["minitiles"])

    # a minitile by its GUID names its tile
    r = await tiling.client.get(f"/v1/tiles/{TILE.minitile_at(137).guid}", headers=h)
    assert r.status_code == 200
    assert r.json()["code"] == "33N-C0009-R0100-M137" and r.json()["tile"] == TILE.guid


async def test_bad_guids_say_which_and_why(tiling):
    h = tiling.auth("acct-http")
    r = await tiling.client.get("/v1/tiles/not-a-guid", headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "grid_malformed" and "not-a-guid" in r.json()["detail"]

    # one hex digit of the check changed: a mistyped GUID
    good = TILE.guid
    typo = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = await tiling.client.get(f"/v1/tiles/{typo}", headers=h)
    assert r.status_code == 422 and typo in r.json()["detail"] and "check" in r.json()["detail"]

    # well formed, but column 0 at 46 N lies ~250 km west of the zone's widened band: no such cell
    outside = CellId(33, False, 0, 100).guid
    r = await tiling.client.get(f"/v1/tiles/{outside}", headers=h)
    assert r.status_code == 404, r.text
    assert r.json()["code"] == "grid_out_of_grid" and outside in r.json()["detail"]

    # a random UUID is not a grid GUID
    rnd = str(uuid.uuid4())
    r = await tiling.client.get(f"/v1/tiles/{rnd}", headers=h)
    assert r.status_code == 422 and rnd in r.json()["detail"]

    # minitiles of a minitile
    mini = TILE.minitile_at(3).guid
    r = await tiling.client.get(f"/v1/tiles/{mini}/minitiles", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "grid_wrong_level" and mini in r.json()["detail"]


async def test_resolve_folds_minitiles_into_a_selected_tile(tiling):
    h = tiling.auth("acct-http")
    folded = [TILE.minitile_at(i).guid for i in (0, 1, 255)]
    body = {"TileGuids": [TILE.guid, TILE.guid], "MiniTileGuids": folded + [OTHER.minitile_at(5).guid]}
    r = await tiling.client.post("/v1/tiles/resolve", json=body, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert [c["guid"] for c in out["tiles"]] == [TILE.guid]
    assert [c["guid"] for c in out["minitiles"]] == [OTHER.minitile_at(5).guid]
    assert set(out["tiles"][0]) >= {"guid", "code", "zone", "epsg", "footprint", "area_km2"}
    codes = {w["code"]: w for w in out["warnings"]}
    assert codes["duplicates_removed"]["count"] == 1
    assert codes["minitiles_folded_into_tile"]["count"] == 3
    assert "33N-C0009-R0100" in codes["minitiles_folded_into_tile"]["message"]
    # 2,621.44 + 10.24 = 2,631.68 km2
    assert out["tiles_km2"] == pytest.approx(2621.44)
    assert out["minitiles_km2"] == pytest.approx(10.24)
    assert out["total_km2"] == pytest.approx(2631.68)


async def test_resolve_names_every_bad_guid(tiling):
    h = tiling.auth("acct-http")
    r = await tiling.client.post("/v1/tiles/resolve", headers=h,
                                 json={"tile_guids": [TILE.guid, "zzz"], "minitile_guids": ["7e55"]})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["field"], e["value"]) for e in errors] == [("tile_guids.1", "zzz"), ("minitile_guids.0", "7e55")]
    assert "tile_guids.1" in r.json()["detail"]


async def test_search_of_a_small_box(tiling):
    # A lon/lat box from the centre of minitile (column 1, row 1) to the centre of minitile (4, 3) of the
    # tile: minitile columns 1..4 x rows 1..3 = 12 minitiles (index 16 r + c), inside one tile.
    # Planar extent 9,600 m x 6,400 m = 61.44 km2: corner minitiles hold 1,600 x 1,600 m (1/24 of it),
    # the 6 edge ones 3,200 x 1,600 (1/12), the 2 inner ones a whole 10.24 km2 (1/6).
    h = tiling.auth("acct-http")
    w, s = lonlat(TILE_E0 + 1.5 * MINI, TILE_N0 + 1.5 * MINI)
    e, n = lonlat(TILE_E0 + 4.5 * MINI, TILE_N0 + 3.5 * MINI)
    r = await tiling.client.post("/v1/tiles/search", json={"bbox": [w, s, e, n], "include_minitiles": True},
                                 headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert [c["code"] for c in out["tiles"]] == ["33N-C0009-R0100"]
    assert out["tiles"][0]["share"] == pytest.approx(1.0, abs=1e-6)
    expected = {16 * r_ + c: (1 / 24 if r_ in (1, 3) and c in (1, 4) else 1 / 6 if (r_, c) in ((2, 2),
                                                                                               (2, 3)) else 1 / 12)
                for r_ in (1, 2, 3) for c in (1, 2, 3, 4)}
    got = {int(c["code"][-3:]): c["share"] for c in out["minitiles"]}
    assert set(got) == set(expected)
    for idx, share in expected.items():
        assert got[idx] == pytest.approx(share, abs=2e-3), idx
    assert all(set(c) >= {"guid", "code", "zone", "epsg", "footprint", "area_km2", "share"} for c in out["minitiles"])

    # the dashboard's zone toggles: with only 34N on, nothing
    r = await tiling.client.post("/v1/tiles/search", json={"bbox": [w, s, e, n], "zones": ["34N"]}, headers=h)
    assert r.status_code == 200 and r.json()["tiles"] == []
    r = await tiling.client.post("/v1/tiles/search", json={"bbox": [w, s, e, n], "zones": ["99X"]}, headers=h)
    assert r.status_code == 422


async def test_search_by_wkt_geojson_and_stored_aoi_agree(tiling, fake_aoi):
    h = tiling.auth("acct-aoi")
    block = minitile_block(2, 2, 3, 2)  # minitile columns 2..4, rows 2..3: 6 minitiles
    fake_aoi.aois["aoi-1"] = {"type": "GeometryCollection", "geometries": [geojson(block)]}
    answers = []
    for aoi in ({"wkt": block.wkt}, {"GeoJson": geojson(block)}, {"aoi_id": "aoi-1"}):
        r = await tiling.client.post("/v1/tiles/search", json={**aoi, "include_minitiles": True,
                                                               "footprints": False}, headers=h)
        assert r.status_code == 200, r.text
        answers.append(sorted(c["code"][-3:] for c in r.json()["minitiles"]))
    assert answers[0] == answers[1] == answers[2] == sorted(f"{16 * r + c:03d}" for r in (2, 3) for c in (2, 3, 4))
    assert fake_aoi.seen[-1] == ("aoi-1", h["Authorization"])  # the caller's token was forwarded

    # an AOI the AOI service does not know is the caller's mistake in aoi_id, as in every service
    r = await tiling.client.post("/v1/tiles/search", json={"aoi_id": "nope"}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "unknown_aoi"
    assert [e["field"] for e in r.json()["errors"]] == ["aoi_id"]
    r = await tiling.client.post("/v1/tiles/search", json={"wkt": "POLYGON((0 0, 1 1))"}, headers=h)
    assert r.status_code == 422
    r = await tiling.client.post("/v1/tiles/search", json={}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "aoi_required"


async def test_search_too_large_for_footprints_says_what_to_do(tiling):
    # 10 x 10 degrees at mid latitudes is ~900,000 km2: ~350 tiles but ~90,000 minitiles
    h = tiling.auth("acct-http")
    r = await tiling.client.post("/v1/tiles/search", json={"bbox": [5, 40, 15, 50], "include_minitiles": True},
                                 headers=h)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert r.json()["code"] == "too_many_cells" and "footprints=false" in detail and "/minitiles" in detail
    r = await tiling.client.post("/v1/tiles/search", json={"bbox": [5, 40, 15, 50]}, headers=h)
    assert r.status_code == 200 and 300 < len(r.json()["tiles"]) < 500


async def test_optimise_buys_the_whole_tile_from_110_minitiles_and_minitiles_at_100(tiling):
    h = tiling.auth("acct-opt")
    # 10 x 11 = 110 minitiles: 110 x 10.24 x 0.5 = 563.2 > 2,621.44 x 0.2 = 524.288 -> the whole tile
    block = minitile_block(3, 2, 10, 11)
    r = await tiling.client.post("/v1/tiles/optimize", json={"wkt": block.wkt}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert [c["guid"] for c in out["tiles"]] == [TILE.guid] and out["minitiles"] == []
    # the AOI is (32,000 - 200) x (35,200 - 200) m = 1,113.0 km2 planar (geodesic within 0.1 %)
    assert out["polygon_km2"] == pytest.approx(1113.0, rel=1e-3)
    assert out["cost_factor"] == pytest.approx(524.288 / out["polygon_km2"], rel=1e-9)
    assert out["cost_factor"] == pytest.approx(0.4711, abs=5e-4)

    # 10 x 10 = 100 minitiles: 100 x 10.24 x 0.5 = 512 < 524.288 -> minitiles
    block = minitile_block(3, 2, 10, 10)
    r = await tiling.client.post("/v1/tiles/optimize", json={"geojson": geojson(block)}, headers=h)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["tiles"] == [] and len(out["minitiles"]) == 100 and len(out["minitile_guids"]) == 100
    assert out["minitiles_km2"] == pytest.approx(1024.0)
    # (32,000 - 200) x (32,000 - 200) m = 1,011.24 km2 -> 512 / 1,011.24 = 0.5063
    assert out["cost_factor"] == pytest.approx(0.5063, abs=5e-4)


async def test_a_bbox_across_the_antimeridian(tiling):
    # minLon > maxLon: the box 179.8 E .. 179.8 W at 16-16.1 S is split at 180; zone 60 (174..180 E,
    # widened to 180.25) and zone 1 (180..174 W, widened from 179.75 E) both cover it, in the south
    h = tiling.auth("acct-http")
    r = await tiling.client.post("/v1/tiles/search", json={"bbox": [179.8, -16.1, -179.8, -16.0]}, headers=h)
    assert r.status_code == 200, r.text
    assert {c["zone"] for c in r.json()["tiles"]} == {"60S", "1S"}
    assert {c["epsg"] for c in r.json()["tiles"]} == {32760, 32701}
    r = await tiling.client.post("/v1/tiles/search", json={"bbox": [10, 50, 10, 51]}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "invalid_bbox"
