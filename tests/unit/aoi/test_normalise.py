"""Normalised form: EPSG:4326 lon/lat, 2D, exterior CCW / holes CW, antimeridian split."""

from __future__ import annotations

import json

import pytest
import shapely

from shared.geo import ERROR_CODES, AoiError, import_aoi, import_geometry
from shared.geo import errors as E

from .reference import box_ring, ring_km2


def test_exterior_rings_become_counter_clockwise_and_holes_clockwise():
    cw_outer = box_ring(10.0, 50.0, 10.1, 50.1)[::-1]
    ccw_hole = box_ring(10.02, 50.02, 10.05, 50.05)
    aoi = import_aoi(json.dumps({"type": "Polygon", "coordinates": [cw_outer, ccw_hole]}))
    poly = aoi.geometry.geoms[0]
    assert poly.exterior.is_ccw and not poly.interiors[0].is_ccw


def test_output_is_a_geometry_collection_of_polygons_and_multipolygons():
    aoi = import_aoi("GEOMETRYCOLLECTION(POLYGON((0 0,1 0,1 1,0 1,0 0)),"
                     "MULTIPOLYGON(((2 0,3 0,3 1,2 1,2 0)),((4 0,5 0,5 1,4 1,4 0))),POINT(9 9))")
    assert aoi.geometry.geom_type == "GeometryCollection"
    assert [g.geom_type for g in aoi.geometry.geoms] == ["Polygon", "MultiPolygon"]
    gj = aoi.to_geojson()
    assert gj["type"] == "GeometryCollection" and json.loads(json.dumps(gj)) == gj


CROSSING = {"type": "Polygon", "coordinates": [[[179, 10], [-179, 10], [-179, 11], [179, 11],
                                                [179, 10]]]}


def test_part_crossing_the_antimeridian_is_split_at_180():
    aoi = import_aoi(json.dumps(CROSSING))
    geom = aoi.geometry.geoms[0]
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    east, west = sorted(geom.geoms, key=lambda p: -p.bounds[0])
    assert east.bounds == (179.0, 10.0, 180.0, 11.0)
    assert west.bounds == (-180.0, 10.0, -179.0, 11.0)
    part = aoi.parts[0]
    assert part.crosses_antimeridian and part.bbox == [179.0, 10.0, -179.0, 11.0]  # RFC 7946 §5.2
    # area = the two 1°×1° halves measured on their own
    expected = ring_km2(box_ring(179, 10, 180, 11)) + ring_km2(box_ring(-180, 10, -179, 11))
    assert part.area_km2 == pytest.approx(expected, rel=1e-9)
    # bbox 2° wide, not 358°
    assert part.bbox_width_m == pytest.approx(2 * 111319.49 * 0.98163, rel=1e-3)  # cos 11°
    assert E.W_ANTIMERIDIAN_SPLIT in [w["code"] for w in aoi.warnings]


def test_split_output_normalises_to_itself():
    first = import_aoi(json.dumps(CROSSING))
    second = import_aoi(json.dumps(first.to_geojson()))
    assert shapely.equals(first.geometry, second.geometry)
    assert second.parts == first.parts


def test_import_geometry_reprojects_a_declared_crs():
    square = shapely.box(500000, 5500000, 510000, 5510000)
    aoi = import_geometry(square, crs="EPSG:32633")
    assert aoi.totals.bbox[0] == pytest.approx(15.0)


def test_error_codes_are_stable_and_problem_details_are_rfc9457_shaped():
    assert set(ERROR_CODES) >= {
        "unknown_format", "unreadable", "empty_input", "no_polygon", "invalid_ring",
        "coordinates_out_of_range", "latitude_out_of_range", "sliver", "bbox_side_too_short",
        "upload_too_large", "archive_too_large", "too_many_parts", "too_many_vertices",
        "area_too_large", "xml_external_entity", "crs_unknown"}
    problem = AoiError(E.SLIVER, "Polygon 1: thin", where={"part": 1}).to_problem()
    assert problem["status"] == 422 and problem["code"] == "sliver"
    assert problem["detail"] == "Polygon 1: thin" and problem["where"] == {"part": 1}
    assert AoiError(E.UPLOAD_TOO_LARGE, "big").status == 413
    with pytest.raises(ValueError):
        AoiError("made_up", "x")
