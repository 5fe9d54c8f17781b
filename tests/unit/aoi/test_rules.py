"""The rules of docs/domain.md, AOI rules, at and around their thresholds, with independently worked figures."""

from __future__ import annotations

import json
import math

import pytest

from shared.geo import Limits, import_aoi
from shared.geo import errors as E

from .reference import (
    M_PER_DEG_LAT_EQUATOR,
    M_PER_DEG_LON_EQUATOR,
    box_ring,
    box_wkt,
    refused,
    ring_km2,
)

# --- geodesic area -------------------------------------------------------------------------


def test_box_10E_50N_tenth_degree_has_geodesic_area_79_66_km2():
    aoi = import_aoi(box_wkt(10.0, 50.0, 10.1, 50.1))
    assert aoi.totals.area_km2 == pytest.approx(79.66, abs=0.005)


def test_one_degree_box_at_equator_has_geodesic_area_12308_78_km2():
    aoi = import_aoi(box_wkt(0, 0, 1, 1))
    assert aoi.parts[0].area_km2 == pytest.approx(12308.78, abs=0.005)


def test_holes_are_excluded_from_the_area():
    hole = box_ring(10.025, 50.025, 10.075, 50.075)
    gj = {"type": "Polygon", "coordinates": [box_ring(10.0, 50.0, 10.1, 50.1), hole[::-1]]}
    aoi = import_aoi(json.dumps(gj))
    # 79.66 km² minus the hole, measured on its own (about a quarter: 19.92 km²).
    expected = ring_km2(box_ring(10.0, 50.0, 10.1, 50.1)) - ring_km2(hole)
    assert expected == pytest.approx(79.66 - 19.92, abs=0.01)
    assert aoi.parts[0].area_km2 == pytest.approx(expected, rel=1e-9)


def test_multipolygon_is_one_part_with_combined_area_and_its_own_bbox():
    gj = {"type": "MultiPolygon", "coordinates": [[box_ring(0, 0, 1, 1)], [box_ring(2, 0, 3, 1)]]}
    aoi = import_aoi(json.dumps(gj))
    assert len(aoi.parts) == 1 and aoi.parts[0].kind == "MultiPolygon"
    assert aoi.parts[0].area_km2 == pytest.approx(2 * 12308.78, abs=0.01)
    assert aoi.parts[0].bbox == [0, 0, 3, 1]
    # two 1°×1° boxes in a 3°×1° bbox: fill 2/3 (boxes along the equator are congruent)
    assert aoi.parts[0].fill_ratio == pytest.approx(2 / 3, rel=1e-3)


# --- minimum billable area 0.5 km² -----------------------------------------------------------


@pytest.mark.parametrize("side_deg, area_km2, billable_km2", [
    # side × side at the equator: (111,319.49 m·side) × (110,574.27 m·side)
    (0.005, 556.597 * 552.871 / 1e6, 0.5),  # 0.3077 km² → billed 0.5
    (0.0063, 701.313 * 696.618 / 1e6, 0.5),  # 0.4885 km² → billed 0.5
    (0.0064, 712.445 * 707.675 / 1e6, 712.445 * 707.675 / 1e6),  # 0.5042 km² → as is
    (0.007, 779.236 * 774.020 / 1e6, 779.236 * 774.020 / 1e6),  # 0.6031 km² → as is
])
def test_parts_below_half_a_km2_are_accepted_and_billed_as_half_a_km2(side_deg, area_km2,
                                                                       billable_km2):
    aoi = import_aoi(box_wkt(0, 0, side_deg, side_deg))
    assert aoi.parts[0].area_km2 == pytest.approx(area_km2, rel=2e-3)
    assert aoi.parts[0].billable_km2 == pytest.approx(billable_km2, rel=2e-3)


def test_minimum_applies_per_part_not_per_aoi():
    text = box_wkt(0, 0, 0.005, 0.005) + "\n" + box_wkt(1, 0, 1.005, 0.005)
    aoi = import_aoi(text)
    assert aoi.totals.billable_km2 == pytest.approx(1.0)
    assert [w["code"] for w in aoi.warnings].count(E.W_BELOW_MINIMUM_AREA) == 2


# --- bbox side > 150 m ----------------------------------------------------------------------


def _deg_lon(m: float) -> float:
    return m / M_PER_DEG_LON_EQUATOR


def _deg_lat(m: float) -> float:
    return m / M_PER_DEG_LAT_EQUATOR


@pytest.mark.parametrize("width_m, height_m, ok", [
    (149.5, 2000, False),
    (150.5, 2000, True),
    (2000, 149.5, False),
    (2000, 150.5, True),
    (100, 100, False),
])
def test_bbox_sides_must_be_longer_than_150_m(width_m, height_m, ok):
    wkt = box_wkt(0, 0, _deg_lon(width_m), _deg_lat(height_m))
    if ok:
        part = import_aoi(wkt).parts[0]
        assert part.bbox_width_m == pytest.approx(width_m, abs=0.01)
        assert part.bbox_height_m == pytest.approx(height_m, abs=0.05)
    else:
        err = refused(E.BBOX_SIDE_TOO_SHORT, wkt)
        assert "150 m" in err.message and "Polygon 1" in err.message


def test_bbox_width_is_the_parallel_farther_from_the_equator():
    # At 60° N: parallel radius N·cosφ with N = a / sqrt(1 − e² sin²φ) (hand formula).
    a, f = 6378137.0, 1 / 298.257223563
    e2 = f * (2 - f)

    def m_per_deg(lat):
        phi = math.radians(lat)
        return a * math.cos(phi) / math.sqrt(1 - e2 * math.sin(phi) ** 2) * math.pi / 180

    w_deg = 300.0 / m_per_deg(60.0)  # 300 m at 60°, a bit less at 60.05°
    part = import_aoi(box_wkt(0, 60.0, w_deg, 60.05)).parts[0]
    assert part.bbox_width_m == pytest.approx(w_deg * m_per_deg(60.05), rel=1e-9)
    assert part.bbox_width_m < 300.0


# --- fill ratio ≥ 5 % (slivers) -----------------------------------------------------------


def _band(w: float) -> str:
    """A diagonal parallelogram across the 1°×1° box at the equator, planar fill = w."""
    return f"POLYGON((0 0, {w} 0, 1 1, {1 - w} 1, 0 0))"


@pytest.mark.parametrize("w, ok", [(0.045, False), (0.049, False), (0.051, True), (0.06, True)])
def test_parts_covering_less_than_5_percent_of_their_bbox_are_slivers(w, ok):
    ring = [[0, 0], [w, 0], [1, 1], [1 - w, 1], [0, 0]]
    expected_fill = ring_km2(ring) / ring_km2(box_ring(0, 0, 1, 1))
    assert expected_fill == pytest.approx(w, rel=0.01)  # near the equator ≈ planar
    if ok:
        assert import_aoi(_band(w)).parts[0].fill_ratio == pytest.approx(expected_fill, rel=1e-9)
    else:
        err = refused(E.SLIVER, _band(w))
        assert "5 %" in err.message


def test_rectangle_fills_its_bbox_completely():
    assert import_aoi(box_wkt(10, 50, 10.1, 50.1)).parts[0].fill_ratio == pytest.approx(1.0)


# --- latitude −80..84 and coordinate range -------------------------------------------------


@pytest.mark.parametrize("s, n, ok", [
    (83.9, 84.0, True), (84.0, 84.1, False), (-80.0, -79.9, True), (-80.1, -79.9, False),
])
def test_latitudes_outside_utm_are_refused(s, n, ok):
    wkt = box_wkt(0, s, 1, n)
    if ok:
        import_aoi(wkt)
    else:
        err = refused(E.LATITUDE_OUT_OF_RANGE, wkt)
        assert "-80..84" in err.message


@pytest.mark.parametrize("w, e, split", [(179.0, 180.0, False), (179.5, 180.5, True),
                                         (-180.0, -179.0, False), (-180.5, -179.5, True)])
def test_longitudes_a_web_map_wraps_are_folded_and_split(w, e, split):
    aoi = import_aoi(box_wkt(w, 10, e, 11))
    assert aoi.parts[0].crosses_antimeridian == split


@pytest.mark.parametrize("w, e", [(600.0, 601.0), (-700.0, -699.0)])
def test_longitudes_beyond_one_more_turn_are_refused(w, e):
    refused(E.COORDINATES_OUT_OF_RANGE, box_wkt(w, 10, e, 11))


def test_projected_metres_without_crs_get_a_hint():
    err = refused(E.COORDINATES_OUT_OF_RANGE,
                  box_wkt(500000, 5500000, 510000, 5510000))
    assert "projected metres" in err.message and "500000.0000 5500000.0000" in err.message


def test_swapped_axes_get_a_hint():
    err = refused(E.COORDINATES_OUT_OF_RANGE, box_wkt(50, 100, 50.1, 100.1))
    assert "swapped" in err.message


# --- invalid rings ----------------------------------------------------------------------------

BOWTIE = "POLYGON((9.8 56.7, 9.85 56.75, 9.85 56.7, 9.8 56.75, 9.8 56.7))"


def test_bow_tie_is_refused_with_the_crossing_coordinate():
    err = refused(E.INVALID_RING, BOWTIE)
    # the diagonals cross at the centre of the square: 9.825 56.725
    assert err.message == ("Polygon 1: ring self-intersects at 9.8250 56.7250; pass repair=true "
                           "to fix it automatically.")
    assert err.where["coordinate"] == pytest.approx([9.825, 56.725])


def test_invalid_part_is_named_by_its_position():
    text = box_wkt(0, 0, 1, 1) + "\n" + box_wkt(2, 0, 3, 1) + "\n" + BOWTIE
    assert refused(E.INVALID_RING, text).message.startswith("Polygon 3: ring self-intersects")


def test_repair_splits_a_bow_tie_and_reports_the_area_change():
    aoi = import_aoi(BOWTIE, repair=True)
    left = ring_km2([[9.8, 56.7], [9.825, 56.725], [9.8, 56.75], [9.8, 56.7]])
    right = ring_km2([[9.85, 56.7], [9.85, 56.75], [9.825, 56.725], [9.85, 56.7]])
    assert aoi.parts[0].area_km2 == pytest.approx(left + right, rel=1e-6)
    rep = [w for w in aoi.warnings if w["code"] == E.W_REPAIRED][0]
    assert rep["area_after_km2"] == pytest.approx(left + right, rel=1e-6)
    assert "self-intersects" in rep["message"]


@pytest.mark.parametrize("text, reason", [
    ('{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}', "not_closed"),
    ('{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}', "too_few_points"),
    ('{"type":"Polygon","coordinates":[[[0,0],[1,0],[NaN,1],[0,1],[0,0]]]}', "non_finite"),
    ('{"type":"Polygon","coordinates":[[[0,0],[1,0],[Infinity,1],[0,1],[0,0]]]}', "non_finite"),
    ("POLYGON((0 0, 1 0, 1 1, 0 1))", "not_closed"),
    ("POLYGON((0 0, 1 0, 0 0))", "too_few_points"),
    ("POLYGON((0 0, 1 0, 1 1, 0 1, 0 0), (0.2 0.2, 2 0.2, 2 2, 0.2 0.2))", "hole_lies_outside_shell"),
])
def test_invalid_rings_are_refused_with_their_reason(text, reason):
    err = refused(E.INVALID_RING, text)
    assert err.where["reason"] in (reason, "self_intersection") if "hole" in reason else \
        err.where["reason"] == reason


def test_unclosed_ring_names_its_first_coordinate():
    err = refused(E.INVALID_RING,
                  '{"type":"Polygon","coordinates":[[[9.8,56.7],[9.9,56.7],[9.9,56.8],[9.8,56.8]]]}')
    assert "9.8000 56.7000" in err.message and "not closed" in err.message


# --- points and lines -----------------------------------------------------------------------


def test_points_and_lines_are_dropped_with_a_warning_naming_how_many():
    gj = {"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": [1, 1]},
        {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        {"type": "Polygon", "coordinates": [box_ring(0, 0, 1, 1)]},
        {"type": "Point", "coordinates": [2, 2]}]}
    aoi = import_aoi(json.dumps(gj))
    assert len(aoi.parts) == 1
    w = [w for w in aoi.warnings if w["code"] == E.W_DROPPED_NON_POLYGON][0]
    assert w["count"] == 3 and "3 point or line" in w["message"]


def test_no_polygon_at_all_is_refused():
    refused(E.NO_POLYGON, '{"type":"MultiPoint","coordinates":[[1,1],[2,2]]}')


# --- overlaps and dissolve ----------------------------------------------------------------------

TWO_OVERLAPPING = box_wkt(0, 0, 1, 1) + "\n" + box_wkt(0.5, 0.5, 1.5, 1.5)


def test_overlapping_parts_are_reported_with_the_overlap_area():
    aoi = import_aoi(TWO_OVERLAPPING)
    w = [w for w in aoi.warnings if w["code"] == E.W_OVERLAP][0]
    expected = ring_km2(box_ring(0.5, 0.5, 1, 1))  # ≈ a quarter of 12,308.78: 3,077 km²
    assert expected == pytest.approx(12308.78 / 4, rel=2e-3)
    assert w["overlap_km2"] == pytest.approx(expected, rel=1e-6)
    assert w["pairs"][0]["parts"] == [1, 2]
    assert "dissolve=true" in w["message"]


def test_parts_that_only_touch_do_not_overlap():
    aoi = import_aoi(box_wkt(0, 0, 1, 1) + "\n" + box_wkt(1, 0, 2, 1))
    assert E.W_OVERLAP not in [w["code"] for w in aoi.warnings]


def test_dissolve_merges_overlapping_parts():
    aoi = import_aoi(TWO_OVERLAPPING, dissolve=True)
    assert len(aoi.parts) == 1
    union = ring_km2([[0, 0], [1, 0], [1, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 1.5], [0.5, 1],
                      [0, 1], [0, 0]])
    assert aoi.totals.area_km2 == pytest.approx(union, rel=1e-6)
    assert E.W_DISSOLVED in [w["code"] for w in aoi.warnings]


# --- limits -----------------------------------------------------------------------------------


def test_upload_over_the_size_limit_is_413():
    err = refused(E.UPLOAD_TOO_LARGE, b"x" * 101, limits=Limits(max_upload_bytes=100))
    assert err.status == 413 and "max_upload_bytes" in err.message


def test_upload_at_the_size_limit_is_read():
    wkt = box_wkt(0, 0, 1, 1).encode()
    import_aoi(wkt, limits=Limits(max_upload_bytes=len(wkt)))


@pytest.mark.parametrize("limit, ok", [(2, False), (3, True)])
def test_number_of_parts_is_limited(limit, ok):
    text = "\n".join(box_wkt(i * 2, 0, i * 2 + 1, 1) for i in range(3))
    if ok:
        import_aoi(text, limits=Limits(max_parts=limit))
    else:
        err = refused(E.TOO_MANY_PARTS, text, limits=Limits(max_parts=limit))
        assert err.status == 422 and "max_parts" in err.message


@pytest.mark.parametrize("limit, ok", [(14, False), (15, True)])
def test_number_of_vertices_is_limited(limit, ok):
    text = "\n".join(box_wkt(i * 2, 0, i * 2 + 1, 1) for i in range(3))  # 3 × 5 = 15
    if ok:
        import_aoi(text, limits=Limits(max_vertices=limit))
    else:
        assert "max_vertices" in refused(E.TOO_MANY_VERTICES, text,
                                         limits=Limits(max_vertices=limit)).message


@pytest.mark.parametrize("limit, ok", [(79.6, False), (79.7, True)])
def test_total_area_is_limited(limit, ok):
    wkt = box_wkt(10.0, 50.0, 10.1, 50.1)  # 79.66 km²
    if ok:
        import_aoi(wkt, limits=Limits(max_total_area_km2=limit))
    else:
        err = refused(E.AREA_TOO_LARGE, wkt, limits=Limits(max_total_area_km2=limit))
        assert err.status == 422 and "max_total_area_km2" in err.message


def test_default_area_limit_is_one_million_km2():
    # 10° × 10° at the equator is about 1.23 million km²
    refused(E.AREA_TOO_LARGE, box_wkt(0, 0, 10, 10))


# --- empty / unknown ------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", "", "   \n ", '{"type":"FeatureCollection","features":[]}'])
def test_empty_input_is_refused(data):
    refused(E.EMPTY_INPUT, data)


@pytest.mark.parametrize("data", [b"\x00\x01\x02\x03binary", "hello world", "<html></html>",
                                  '{"name": "no geometry here"}'])
def test_unknown_formats_are_refused(data):
    refused(E.UNKNOWN_FORMAT, data)


def test_malformed_known_format_is_unreadable():
    refused(E.UNREADABLE, '{"type": "Polygon", "coordinates": [[[0,0],[1,0]')
    refused(E.UNREADABLE, "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0)")


def test_unknown_crs_is_refused():
    refused(E.CRS_UNKNOWN, "SRID=999999;" + box_wkt(0, 0, 1, 1))
