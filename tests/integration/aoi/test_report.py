"""The import report over HTTP: a refusal's problem body carries every part and every violation
(nothing stored), drop_failing stores the parts that pass and lists the rest, and the new readers
(SpatiaLite, CSV, zipped FileGDB, curves, web-map longitudes) import through the service."""
from __future__ import annotations

import sqlite3

import numpy as np
import pyogrio.raw
import pytest
import shapely

from tests.support.archives import zip_bytes as _zip

from .conftest import box

pytestmark = pytest.mark.integration

BOWTIE = "POLYGON((10 50, 10.1 50.1, 10.1 50, 10 50.1, 10 50))"
GOOD = box(11.0, 50.0, 11.1, 50.1)
POLAR = box(10.0, 85.0, 10.1, 85.1)
THIN = box(12.0, 50.0, 12.1, 50.001)
MIXED = "\n".join([BOWTIE, GOOD, POLAR, THIN])


async def test_refusal_body_carries_the_whole_report_and_nothing_is_stored(aoi, stored, unique):
    acct = f"acct-{unique}"
    before = await stored.outbox()
    r = await aoi.client.post("/v1/aois", headers={**aoi.auth(acct), "content-type": "text/plain"},
                              content=MIXED)
    assert r.status_code == 422, r.text
    body = r.json()
    # the problem shape is unchanged: the first rule broken is the code, with detail and where
    assert body["code"] == "latitude_out_of_range" and body["where"]["part"] == 3 and body["detail"]
    codes = [[v["code"] for v in p["violations"]] for p in body["report"]["parts"]]
    assert codes == [["invalid_ring"], [], ["latitude_out_of_range"], ["bbox_side_too_short"]]
    assert {o["option"] for o in body["report"]["options"]} == {"drop_failing", "repair"}
    assert await stored.aois(acct) == 0 and await stored.outbox() == before


async def test_validate_answers_the_same_report(aoi, unique):
    r = await aoi.client.post("/v1/aois:validate", headers=aoi.auth(f"acct-{unique}"), content=MIXED)
    assert r.status_code == 422 and len(r.json()["report"]["parts"]) == 4


@pytest.mark.parametrize("how", ["query", "form", "json"])
async def test_drop_failing_stores_the_parts_that_pass(aoi, stored, unique, how):
    acct = f"acct-{unique}"
    h = aoi.auth(acct)
    if how == "query":
        r = await aoi.client.post("/v1/aois?drop_failing=true", headers=h, content=MIXED)
    elif how == "form":
        r = await aoi.client.post("/v1/aois", headers=h, data={"drop_failing": "true"},
                                  files={"file": ("fields.txt", MIXED.encode(), "text/plain")})
    else:
        r = await aoi.client.post("/v1/aois", headers=h, json={"wkt": GOOD + "\n" + BOWTIE,
                                                                "drop_failing": True})
    assert r.status_code == 201, r.text
    report = r.json()["report"]
    assert len(report["parts"]) == 1 and report["parts"][0]["source_index"] in (1, 2)
    assert report["dropped"] and all(d["violations"] for d in report["dropped"])
    assert "dropped_failing_parts" in [w["code"] for w in report["warnings"]]
    assert await stored.aois(acct) == 1
    got = await aoi.client.get(r.headers["location"], headers=h)
    assert got.json()["report"]["dropped"] == report["dropped"]


async def test_small_parts_come_with_the_grouping_hint(aoi, unique):
    text = "\n".join(box(10.0 + 0.01 * k, 50.0, 10.005 + 0.01 * k, 50.005) for k in range(3))
    r = await aoi.client.post("/v1/aois:validate", headers=aoi.auth(f"acct-{unique}"), content=text)
    assert r.status_code == 200, r.text
    hint = r.json()["report"]["hints"][0]
    assert hint["code"] == "group_small_parts" and hint["billable_km2_now"] == pytest.approx(1.5)


def _write(path, geoms, driver, **kw):
    wkb = np.array([shapely.to_wkb(g) for g in geoms], dtype=object)
    pyogrio.raw.write(str(path), wkb, [np.array(["f"] * len(geoms), dtype=object)], ["name"],
                      driver=driver, crs="EPSG:4326", **{"geometry_type": "Polygon", **kw})
    return path


async def test_spatialite_upload(aoi, unique, tmp_path):
    path = _write(tmp_path / "fields.sqlite", [shapely.box(10, 50, 10.1, 50.1)], "SQLite",
                  dataset_options={"SPATIALITE": "YES"})
    # SpatiaLite ships every EPSG definition (7 MB): keep WGS84 to fit the lowered upload limit
    db = sqlite3.connect(path)
    db.execute("DELETE FROM spatial_ref_sys WHERE srid <> 4326")
    db.commit()
    db.execute("VACUUM")
    db.close()
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(f"acct-{unique}"),
                              files={"file": ("fields.sqlite", path.read_bytes(), "application/x-sqlite3")})
    assert r.status_code == 201, r.text
    assert r.json()["source_format"] == "spatialite"


async def test_csv_upload(aoi, unique):
    text = f'id,WKT\n1,"{GOOD}"\n'
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(f"acct-{unique}"),
                              files={"file": ("fields.csv", text.encode(), "text/csv")})
    assert r.status_code == 201, r.text
    assert r.json()["source_format"] == "csv"


async def test_zipped_filegdb_with_a_point_layer(aoi, unique, tmp_path):
    gdb = tmp_path / "site.gdb"
    _write(gdb, [shapely.box(10, 50, 10.1, 50.1)], "OpenFileGDB", layer="fields")
    _write(gdb, [shapely.Point(10, 50)], "OpenFileGDB", layer="pins", geometry_type="Point")
    data = _zip({f"site.gdb/{p.name}": p.read_bytes() for p in gdb.iterdir()})
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(f"acct-{unique}"),
                              files={"file": ("site.gdb.zip", data, "application/zip")})
    assert r.status_code == 201, r.text
    skipped = [w for w in r.json()["report"]["warnings"] if w["code"] == "layer_skipped"]
    assert [w["layer"] for w in skipped] == ["pins"]


@pytest.mark.parametrize("text, warning", [
    ("CURVEPOLYGON(CIRCULARSTRING(10 50, 10.1 50, 10 50))", "linearised_curves"),
    ('{"type":"Polygon","coordinates":[[[179.5,10],[180.5,10],[180.5,10.5],[179.5,10.5],[179.5,10]]]}',
     "wrapped_longitudes"),
    ("POLYGON((179.9 10, 180.00000000000006 10, 180.00000000000006 11, 179.9 11, 179.9 10))",
     "snapped_coordinates"),
])
async def test_files_that_used_to_be_refused_import_with_a_warning(aoi, unique, text, warning):
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(f"acct-{unique}"), content=text)
    assert r.status_code == 201, r.text
    assert warning in [w["code"] for w in r.json()["report"]["warnings"]]


async def test_ring_round_the_pole_is_refused_for_latitude(aoi, stored, unique):
    acct = f"acct-{unique}"
    ring = [[0, 75], [90, 75], [180, 75], [-90, 75], [0, 75]]
    r = await aoi.client.post("/v1/aois", headers=aoi.auth(acct),
                              json={"type": "Polygon", "coordinates": [ring]})
    assert r.status_code == 422 and r.json()["code"] == "latitude_out_of_range"
    assert r.json()["report"]["parts"][0]["encloses_pole"] == "north"
    assert await stored.aois(acct) == 0


async def test_bad_drop_failing_value_is_422(aoi, unique):
    r = await aoi.client.post("/v1/aois?drop_failing=perhaps", headers=aoi.auth(f"acct-{unique}"),
                              content=GOOD)
    assert r.status_code == 422 and r.json()["code"] == "invalid_option"
