"""Files people really have, one test per class, each file generated here (GDAL through
pyogrio.raw.write, sqlite3 for what GDAL does not write, plain text for WKT, KML and CSV), and
the report that lists every part and every violation at once."""

from __future__ import annotations

import json
import sqlite3
import struct

import numpy as np
import pyogrio.raw
import pytest
import shapely

from shared.geo import AoiError, Limits, import_aoi
from shared.geo import errors as E
from shared.geo.readers import ARC_STEP_DEGREES
from tests.support.archives import zip_bytes as _zip

from .reference import GEOD, box_ring, box_wkt, refused, ring_km2

BOX_KM2 = 79.66  # 10.0–10.1 E × 50.0–50.1 N
BOX = shapely.box(10.0, 50.0, 10.1, 50.1)


def _codes(aoi_or_report) -> list[str]:
    warnings = aoi_or_report["warnings"] if isinstance(aoi_or_report, dict) else aoi_or_report.warnings
    return [w["code"] for w in warnings]


def _write(path, geoms, driver, *, layer=None, geometry_type="Polygon", append=False, **kw):
    wkb = np.array([g if isinstance(g, bytes) else shapely.to_wkb(g) for g in geoms], dtype=object)
    names = np.array([f"f{i}" for i in range(len(geoms))], dtype=object)
    pyogrio.raw.write(str(path), wkb, [names], ["name"], driver=driver, crs="EPSG:4326",
                      geometry_type=geometry_type, layer=layer, append=append, **kw)
    return path


def _circle_km2(cx, cy, r):
    """Reference: the same circle (planar in degrees, as the WKT draws it) densified far beyond
    the importer's chords, measured by pyproj."""
    ring = shapely.Point(cx, cy).buffer(r, quad_segs=2048).exterior.coords
    return ring_km2(list(ring))


def _bulging_box_km2():
    disk = shapely.Point(10.05, 50.0).buffer(0.05, quad_segs=2048)
    shape = shapely.union(BOX, shapely.intersection(disk, shapely.box(9, 49, 11, 50)))
    return ring_km2(list(shapely.segmentize(shape, 0.001).exterior.coords))


# --- curved geometries: linearised with a stated tolerance, with a warning -------------------

CIRCLE = "CURVEPOLYGON(CIRCULARSTRING(10 50, 10.1 50, 10 50))"  # centre 10.05 50, radius 0.05°


@pytest.mark.parametrize("wkt, expected", [
    (CIRCLE, lambda: _circle_km2(10.05, 50.0, 0.05)),
    ("MULTISURFACE(" + CIRCLE + ", ((11 50, 11.1 50, 11.1 50.1, 11 50.1, 11 50)))",
     lambda: _circle_km2(10.05, 50.0, 0.05) + ring_km2(box_ring(11, 50, 11.1, 50.1))),
    # a box whose south edge bulges south: a half circle of radius 0.05° below 10.0–10.1 E
    ("CURVEPOLYGON(COMPOUNDCURVE(CIRCULARSTRING(10 50, 10.05 49.95, 10.1 50), "
     "(10.1 50, 10.1 50.1, 10 50.1, 10 50)))",
     lambda: _bulging_box_km2()),
])
def test_curved_wkt_is_linearised_with_a_warning(wkt, expected):
    aoi = import_aoi(wkt)
    assert aoi.totals.area_km2 == pytest.approx(expected(), rel=2e-4)
    w = next(w for w in aoi.warnings if w["code"] == E.W_LINEARISED)
    assert w["arc_step_degrees"] == ARC_STEP_DEGREES and "1° of arc" in w["message"]


def _curvepolygon_wkb(points) -> bytes:
    arc = struct.pack("<BII", 1, 8, len(points)) + b"".join(struct.pack("<dd", *p) for p in points)
    return struct.pack("<BII", 1, 10, 1) + arc  # ISO WKB CurvePolygon(CircularString)


def test_geopackage_curve_layer_is_linearised(tmp_path):
    path = _write(tmp_path / "curves.gpkg", [_curvepolygon_wkb([(10, 50), (10.1, 50), (10, 50)])],
                  "GPKG", geometry_type="Unknown")
    with sqlite3.connect(path) as db:  # as QGIS declares a curve layer
        db.execute("UPDATE gpkg_geometry_columns SET geometry_type_name = 'CURVEPOLYGON'")
    aoi = import_aoi(path.read_bytes())
    assert aoi.source_format == "gpkg"
    assert aoi.totals.area_km2 == pytest.approx(_circle_km2(10.05, 50.0, 0.05), rel=2e-4)
    assert E.W_LINEARISED in _codes(aoi)


def test_gml_arcs_are_linearised(tmp_path):
    path = _write(tmp_path / "curves.gml", [_curvepolygon_wkb([(10, 50), (10.1, 50), (10, 50)])],
                  "GML", geometry_type="Unknown")
    assert b"ArcString" in path.read_bytes() or b"Circle" in path.read_bytes()
    aoi = import_aoi(path.read_bytes())
    assert aoi.source_format == "gml"
    assert aoi.totals.area_km2 == pytest.approx(_circle_km2(10.05, 50.0, 0.05), rel=2e-4)
    assert E.W_LINEARISED in _codes(aoi)


# --- KML rings that are not closed ------------------------------------------------------------


def test_unclosed_kml_ring_is_closed_with_a_warning_naming_the_placemark():
    coords = " ".join(f"{x},{y}" for x, y in box_ring(10.0, 50.0, 10.1, 50.1)[:-1])
    kml = ('<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>North field</name>'
           f'<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates></LinearRing>'
           '</outerBoundaryIs></Polygon></Placemark></Document></kml>')
    aoi = import_aoi(kml)
    assert aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)
    w = next(w for w in aoi.warnings if w["code"] == E.W_CLOSED_RING)
    assert w["placemark"] == "North field" and "North field" in w["message"]


def test_unclosed_geojson_ring_is_still_refused():
    ring = box_ring(10.0, 50.0, 10.1, 50.1)[:-1]
    refused(E.INVALID_RING, json.dumps({"type": "Polygon", "coordinates": [ring]}))


# --- longitudes a hair beyond ±180, and a web map's wrapped longitudes -------------------------


def test_float_noise_past_180_is_snapped():
    aoi = import_aoi("POLYGON((179.9 10, 180.00000000000006 10, 180.00000000000006 11, 179.9 11, "
                     "179.9 10))")
    assert aoi.parts[0].bbox == [179.9, 10.0, 180.0, 11.0]
    assert not aoi.parts[0].crosses_antimeridian
    assert E.W_SNAPPED in _codes(aoi)


def test_leaflet_polygon_across_the_antimeridian_is_folded_and_split():
    # drawn across the antimeridian on a Leaflet map: 170 ... 190
    ring = [[170, 10], [190, 10], [190, 10.5], [170, 10.5], [170, 10]]
    aoi = import_aoi(json.dumps({"type": "Polygon", "coordinates": [ring]}))
    part = aoi.parts[0]
    assert part.crosses_antimeridian and part.bbox == [170.0, 10.0, -170.0, 10.5]
    east, west = sorted(aoi.geometry.geoms[0].geoms, key=lambda p: -p.bounds[0])
    assert east.bounds == (170.0, 10.0, 180.0, 10.5) and west.bounds == (-180.0, 10.0, -170.0, 10.5)
    expected = ring_km2(box_ring(170, 10, 180, 10.5)) + ring_km2(box_ring(-180, 10, -170, 10.5))
    assert part.area_km2 == pytest.approx(expected, rel=1e-9)
    assert {E.W_WRAPPED, E.W_ANTIMERIDIAN_SPLIT} <= set(_codes(aoi))


def test_a_whole_world_copy_away_is_moved_back():
    aoi = import_aoi(box_wkt(370.0, 50.0, 370.1, 50.1))
    assert aoi.parts[0].bbox == pytest.approx([10.0, 50.0, 10.1, 50.1])
    assert aoi.totals.area_km2 == pytest.approx(BOX_KM2, abs=0.005)


# --- rings round a pole, or round the whole globe ---------------------------------------------


def _cap_km2(lat):
    """Reference: a polar cap as 360 boxes of 1° of longitude, each measured by pyproj."""
    return sum(ring_km2(box_ring(x, lat, x + 1, 90)) for x in range(-180, 180))


def test_ring_round_the_north_pole_is_judged_by_latitude_and_area():
    ring = [[0, 75], [90, 75], [180, 75], [-90, 75], [0, 75]]  # drawn round the pole on a globe
    err = refused(E.LATITUDE_OUT_OF_RANGE, json.dumps({"type": "Polygon", "coordinates": [ring]}))
    assert "North Pole" in err.message and "collapses" not in err.message
    part = err.report["parts"][0]
    assert part["encloses_pole"] == "north" and part["bbox"] == [-180.0, 75.0, 180.0, 90.0]
    assert part["area_km2"] == pytest.approx(_cap_km2(75), rel=1e-3)
    assert [v["code"] for v in part["violations"]] == ["latitude_out_of_range"]
    # the cap's 8.8 million km² also break the area limit, listed at the AOI level
    assert [v["code"] for v in err.report["violations"]] == ["area_too_large"]


def test_ring_round_the_south_pole_with_repair_is_not_collapsed():
    ring = [[0, -75], [-90, -75], [180, -75], [90, -75], [0, -75]]
    err = refused(E.LATITUDE_OUT_OF_RANGE, json.dumps({"type": "Polygon", "coordinates": [ring]}),
                  repair=True)
    assert err.where["encloses_pole"] == "south"


def test_band_round_the_globe_is_measured_not_collapsed():
    def band(s, n):
        return json.dumps({"type": "Polygon", "coordinates": [
            [[-180, s], [180, s], [180, n], [-180, n], [-180, s]]]})
    aoi = import_aoi(band(80.0, 80.1))  # 360° x 0.1° at 80° N: about 77,600 km², inside the grid
    part = aoi.parts[0]
    assert part.bbox == [-180.0, 80.0, 180.0, 80.1] and part.fill_ratio == pytest.approx(1.0)
    expected = sum(ring_km2(box_ring(x, 80.0, x + 1, 80.1)) for x in range(-180, 180))
    assert part.area_km2 == pytest.approx(expected, rel=1e-4)
    err = refused(E.AREA_TOO_LARGE, band(10.0, 20.0))  # 42.8 million km²
    assert err.where["actual"] == pytest.approx(
        sum(ring_km2(box_ring(x, 10, x + 1, 20)) for x in range(-180, 180)), rel=1e-3)


# --- SpatiaLite and CSV ---------------------------------------------------------------------


def test_spatialite_database(tmp_path):
    path = _write(tmp_path / "fields.sqlite", [BOX, shapely.box(11.0, 50.0, 11.1, 50.1)], "SQLite",
                  dataset_options={"SPATIALITE": "YES"})
    with sqlite3.connect(path) as db:  # a real SpatiaLite file, not a GeoPackage
        assert db.execute("SELECT count(*) FROM spatial_ref_sys").fetchone()[0] > 0
    aoi = import_aoi(path.read_bytes(), filename="fields.sqlite")
    assert aoi.source_format == "spatialite" and len(aoi.parts) == 2
    assert aoi.parts[0].area_km2 == pytest.approx(BOX_KM2, abs=0.005)


def test_sqlite_with_a_file_reading_virtual_table_is_refused_before_gdal(tmp_path):
    path = _write(tmp_path / "evil.sqlite", [BOX], "SQLite", dataset_options={"SPATIALITE": "YES"})
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA writable_schema = ON")
        db.execute("INSERT INTO sqlite_master (type, name, tbl_name, rootpage, sql) VALUES ('table', "
                   "'passwd', 'passwd', 0, 'CREATE VIRTUAL TABLE passwd USING "
                   "VirtualText(''/etc/passwd'', ''UTF-8'', 0)')")
    err = refused(E.UNREADABLE, path.read_bytes())
    assert err.where["module"] == "VirtualText" and "root:" not in err.message


@pytest.mark.parametrize("text", [
    'id,WKT\n1,"POLYGON((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50))"\n'
    '2,"POLYGON((11 50, 11.1 50, 11.1 50.1, 11 50.1, 11 50))"\n',
    "name;geojson\n" + "".join(
        f'{name};"' + json.dumps({"type": "Polygon", "coordinates": [box_ring(w, 50.0, w + 0.1, 50.1)]})
        .replace('"', '""') + '"\n' for name, w in (("north", 10.0), ("south", 11.0))),
])
def test_csv_with_a_wkt_or_geojson_column(text):
    aoi = import_aoi(text.encode(), filename="fields.csv")
    assert aoi.source_format == "csv" and len(aoi.parts) == 2
    assert aoi.totals.area_km2 == pytest.approx(2 * BOX_KM2, abs=0.02)


def test_csv_row_that_is_not_wkt_is_a_broken_part_in_the_report():
    text = ('id,WKT\n1,"POLYGON((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50))"\n2,"not a polygon"\n'
            '3,"POLYGON((11 50, 11.1 50, 11.1 50.1, 11 50.1, 11 50))"\n')
    err = refused(E.UNREADABLE, text)
    assert err.where == {"row": 3, "column": "WKT", "part": 2}
    assert [bool(p["violations"]) for p in err.report["parts"]] == [False, True, False]
    aoi = import_aoi(text, drop_failing=True)
    assert len(aoi.parts) == 2 and [d["index"] for d in aoi.dropped] == [2]


def test_zipped_csv():
    text = 'id,WKT\n1,"POLYGON((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50))"\n'
    assert len(import_aoi(_zip({"export/fields.csv": text.encode()})).parts) == 1


# --- multi-layer files: the readable polygon layers, and which layer was skipped and why -------


# a local engineering CRS (site metres with no tie to the globe): GDAL stores it, nothing can
# place it on the earth
LOCAL_CS = 'LOCAL_CS["site grid",LOCAL_DATUM["site",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'


def _gdb(tmp_path, *, local_layer: bool):
    gdb = tmp_path / "site.gdb"
    _write(gdb, [BOX], "OpenFileGDB", layer="fields")
    _write(gdb, [shapely.Point(10, 50)], "OpenFileGDB", layer="pins", geometry_type="Point")
    if local_layer:
        wkb = np.array([shapely.to_wkb(shapely.box(0, 0, 500, 500))], dtype=object)
        pyogrio.raw.write(str(gdb), wkb, [np.array(["p"], dtype=object)], ["name"],
                          driver="OpenFileGDB", crs=LOCAL_CS, geometry_type="Polygon", layer="plots")
    return gdb


def test_filegdb_zipped_skips_a_point_layer_and_one_that_cannot_be_placed(tmp_path):
    gdb = _gdb(tmp_path, local_layer=True)
    data = _zip({f"site.gdb/{p.name}": p.read_bytes() for p in gdb.iterdir()})
    aoi = import_aoi(data, filename="site.gdb.zip")
    assert len(aoi.parts) == 1 and aoi.parts[0].area_km2 == pytest.approx(BOX_KM2, abs=0.005)
    skipped = {w["layer"]: w["reason"] for w in aoi.warnings if w["code"] == E.W_LAYER_SKIPPED}
    assert skipped == {"pins": "no_polygon", "plots": "crs_unknown"}


def test_filegdb_zipped_from_inside_its_folder(tmp_path):
    gdb = _gdb(tmp_path, local_layer=False)
    aoi = import_aoi(_zip({p.name: p.read_bytes() for p in gdb.iterdir()}))
    assert len(aoi.parts) == 1 and aoi.source_format == "zip"


def test_geopackage_with_a_point_layer_and_a_broken_layer(tmp_path):
    path = tmp_path / "site.gpkg"
    _write(path, [BOX], "GPKG", layer="fields")
    _write(path, [shapely.Point(10, 50)], "GPKG", layer="pins", geometry_type="Point")
    _write(path, [shapely.box(11.0, 50.0, 11.1, 50.1)], "GPKG", layer="plots")
    with sqlite3.connect(path) as db:  # its table gone, still listed in gpkg_contents
        db.execute("DROP TABLE plots")
    aoi = import_aoi(path.read_bytes())
    assert len(aoi.parts) == 1
    assert {w["layer"] for w in aoi.warnings if w["code"] == E.W_LAYER_SKIPPED} == {"pins", "plots"}


def test_only_non_polygon_layers_left_is_refused_naming_them(tmp_path):
    path = _write(tmp_path / "pins.sqlite", [shapely.Point(10, 50)], "SQLite", layer="pins",
                  geometry_type="Point", dataset_options={"SPATIALITE": "YES"})
    err = refused(E.NO_POLYGON, path.read_bytes())
    assert err.where["skipped_layers"] == [{"layer": "pins", "reason": "no_polygon"}]


def test_kml_folder_with_unreadable_coordinates_is_skipped():
    good = " ".join(f"{x},{y}" for x, y in box_ring(10.0, 50.0, 10.1, 50.1))
    kml = ('<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           f'<Folder><name>fields</name><Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>'
           f'{good}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Folder>'
           '<Folder><name>scans</name><Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>'
           'ten,fifty eleven,fifty</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>'
           '</Folder><NetworkLink><name>live feed</name></NetworkLink></Document></kml>')
    aoi = import_aoi(kml)
    assert len(aoi.parts) == 1
    skipped = {w["layer"]: w["reason"] for w in aoi.warnings if w["code"] == E.W_LAYER_SKIPPED}
    assert skipped == {"scans": "unreadable", "live feed": "no_polygon"}


# --- the report: every part, every violation, both ways -----------------------------------------

BOWTIE = "POLYGON((10 50, 10.1 50.1, 10.1 50, 10 50.1, 10 50))"
POLAR = box_wkt(10.0, 85.0, 10.1, 85.1)
THIN = box_wkt(12.0, 50.0, 12.1, 50.001)  # about 111 m north-south
GOOD = box_wkt(11.0, 50.0, 11.1, 50.1)


def test_refusal_report_lists_every_violation_of_every_part():
    err = refused(E.LATITUDE_OUT_OF_RANGE, "\n".join([BOWTIE, GOOD, POLAR, THIN]))
    # the refusal's code is the first rule the import checks; the report has the rest
    assert err.where["part"] == 3 and "3 more problem" not in err.message
    report = err.to_problem()["report"]
    codes = [[v["code"] for v in p["violations"]] for p in report["parts"]]
    assert codes == [["invalid_ring"], [], ["latitude_out_of_range"], ["bbox_side_too_short"]]
    assert report["parts"][1]["area_km2"] == pytest.approx(BOX_KM2, abs=0.005)
    assert report["parts"][0]["area_km2"] is None  # a bow-tie has no area to speak of
    assert report["parts"][3]["bbox_height_m"] == pytest.approx(111.2, abs=0.5)
    assert {o["option"] for o in report["options"]} == {"drop_failing", "repair"}
    json.dumps(report)  # JSON-ready


def test_a_part_with_two_violations_lists_both():
    # a thin diagonal strip at 85° N: outside the grid and a sliver
    strip = "POLYGON((10 85, 10.002 85, 10.1 85.098, 10.1 85.1, 10.098 85.1, 10 85.002, 10 85))"
    err = refused(E.LATITUDE_OUT_OF_RANGE, strip)
    assert [v["code"] for v in err.report["parts"][0]["violations"]] == \
        ["latitude_out_of_range", "sliver"]


def test_drop_failing_keeps_the_rest_and_lists_what_was_dropped():
    aoi = import_aoi("\n".join([BOWTIE, GOOD, POLAR, THIN]), drop_failing=True)
    assert [p.source_index for p in aoi.parts] == [2]
    assert aoi.parts[0].area_km2 == pytest.approx(BOX_KM2, abs=0.005)
    report = aoi.report()
    assert [d["index"] for d in report["dropped"]] == [1, 3, 4]
    assert [d["violations"][0]["code"] for d in report["dropped"]] == \
        ["invalid_ring", "latitude_out_of_range", "bbox_side_too_short"]
    assert E.W_DROPPED_FAILING in _codes(report)


def test_drop_failing_with_nothing_left_is_still_a_refusal():
    err = refused(E.INVALID_RING, BOWTIE, drop_failing=True)
    assert err.report["parts"][0]["violations"]


def test_broken_geojson_parts_are_listed_with_the_others():
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [r]}}
        for r in (box_ring(10.0, 50.0, 10.1, 50.1), box_ring(11.0, 50.0, 11.1, 50.1)[:-1],
                  box_ring(12.0, 50.0, 12.1, 50.1))]}
    err = refused(E.INVALID_RING, json.dumps(doc))
    assert err.where["reason"] == "not_closed" and err.where["part"] == 2
    assert [len(p["violations"]) for p in err.report["parts"]] == [0, 1, 0]
    assert len(import_aoi(json.dumps(doc), drop_failing=True).parts) == 2


def test_area_limit_is_a_violation_of_the_whole_aoi():
    err = refused(E.AREA_TOO_LARGE, GOOD, limits=Limits(max_total_area_km2=50))
    assert err.report["violations"][0]["code"] == "area_too_large"
    assert err.report["parts"][0]["violations"] == []


def test_small_parts_get_the_hint_that_one_multipolygon_is_billed_on_the_combined_area():
    # three 0.005° squares (about 0.2 km² each) side by side
    text = "\n".join(box_wkt(10.0 + 0.01 * k, 50.0, 10.005 + 0.01 * k, 50.005) for k in range(3))
    aoi = import_aoi(text)
    assert aoi.totals.billable_km2 == pytest.approx(1.5)
    hint = aoi.report()["hints"][0]
    combined = sum(p.area_km2 for p in aoi.parts)
    assert hint["parts"] == [1, 2, 3] and hint["grouped_passes_rules"]
    assert hint["billable_km2_now"] == pytest.approx(1.5)
    assert hint["billable_km2_grouped"] == pytest.approx(max(combined, 0.5))
    # grouped as one MultiPolygon, the same squares are billed once at 0.5 km²
    grouped = import_aoi("MULTIPOLYGON(" + ",".join(
        f"(({w} 50, {w + 0.005} 50, {w + 0.005} 50.005, {w} 50.005, {w} 50))"
        for w in (10.0, 10.01, 10.02)) + ")")
    assert grouped.totals.billable_km2 == pytest.approx(max(combined, 0.5))


def test_an_accepted_report_has_the_refusal_shape():
    report = import_aoi(GOOD).report()
    assert report["violations"] == [] and report["dropped"] == [] and report["hints"] == []
    assert report["parts"][0]["violations"] == []


def test_a_refusal_before_any_part_carries_a_report_too():
    err = refused(E.UNKNOWN_FORMAT, "hello")
    assert err.to_problem()["report"]["violations"][0]["code"] == "unknown_format"


def test_the_report_survives_the_trip_from_a_worker_process():
    import pickle

    err = refused(E.INVALID_RING, BOWTIE)
    again = pickle.loads(pickle.dumps(err))
    assert isinstance(again, AoiError) and again.report == err.report


def test_geod_reference_is_the_wgs84_ellipsoid():
    assert GEOD.a == 6378137.0
