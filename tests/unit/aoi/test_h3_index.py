"""H3 index: the stored covering never misses an AOI that intersects a query geometry."""

from __future__ import annotations

import h3
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from services.aoi.domain import (
    RESOLUTION,
    aoi_cells,
    aoi_report,
    h3_summary,
    intersects_exactly,
    may_intersect,
    query_cells,
    viewport_geometry,
)
from shared.geo import import_aoi
from shared.geo.h3index import cover_cells, overlap_cells

from .reference import box_wkt


def test_resolution_is_6():
    assert RESOLUTION == 6
    assert all(h3.get_resolution(c) <= 6 for c in aoi_cells(shapely.box(10, 50, 10.1, 50.1)))


def test_summary_counts_uncompacted_cells():
    s = h3_summary(shapely.box(10, 50, 10.1, 50.1))
    assert s["resolution"] == 6
    assert s["cell_count"] == len(h3.uncompact_cells(s["cells"], 6)) >= len(s["cells"])


def test_field_sized_aoi_is_found_from_an_overlapping_viewport_and_not_a_distant_one():
    cells = aoi_cells(shapely.box(10.0, 50.0, 10.01, 50.01))
    assert may_intersect(cells, query_cells(viewport_geometry(10.005, 50.005, 10.5, 50.5)))
    assert not may_intersect(cells, query_cells(viewport_geometry(12, 52, 12.5, 52.5)))


def test_viewport_crossing_the_antimeridian():
    vp = viewport_geometry(179.5, 10, -179.5, 11)
    assert vp.geom_type == "MultiPolygon"
    aoi = import_aoi('{"type":"Polygon","coordinates":[[[179,10],[-179,10],[-179,11],[179,11],'
                     '[179,10]]]}')
    assert may_intersect(aoi_cells(aoi.geometry), query_cells(vp))
    assert intersects_exactly(aoi.geometry, vp)


def test_report_carries_the_h3_summary():
    r = aoi_report(import_aoi(box_wkt(10.0, 50.0, 10.1, 50.1)))
    assert set(r) == {"source_format", "parts", "totals", "warnings", "violations", "dropped",
                      "hints", "h3"}
    assert set(r["parts"][0]) == {"index", "kind", "area_km2", "billable_km2", "bbox",
                                  "bbox_width_m", "bbox_height_m", "fill_ratio", "vertex_count",
                                  "crosses_antimeridian", "encloses_pole", "source_index",
                                  "violations"}


small = st.builds(lambda x, y, w, h: shapely.box(x, y, x + w, y + h),
                  st.floats(-20, 20), st.floats(-20, 20), st.floats(0.002, 0.3),
                  st.floats(0.002, 0.3))


@settings(max_examples=60, deadline=None)
@given(small, small)
def test_prefilter_never_misses_an_intersecting_pair(a, b):
    if intersects_exactly(a, b):
        assert may_intersect(aoi_cells(a), query_cells(b))


@settings(max_examples=30, deadline=None)
@given(st.floats(-20, 20), st.floats(-20, 20), st.floats(0.002, 0.3))
def test_touching_at_a_single_point_is_still_found(x, y, w):
    a = shapely.box(x, y, x + w, y + w)
    b = shapely.box(x + w, y + w, x + 2 * w, y + 2 * w)  # shares one corner
    assert intersects_exactly(a, b)
    assert may_intersect(aoi_cells(a), query_cells(b))


anywhere = st.builds(lambda x, y, w, h: shapely.box(x, y, min(x + w, 180.0), min(y + h, 84.0)),
                     st.floats(-180, 179.9), st.floats(-80, 83.9), st.floats(0.001, 12),
                     st.floats(0.001, 6))


@settings(max_examples=60, deadline=None)
@given(anywhere)
def test_top_down_cover_holds_every_cell_h3_fills(box):
    # H3's own fill (with the vertices' cells) is the reference the top-down search must contain
    assert overlap_cells(box) <= cover_cells(box)


def test_many_small_triangles_are_covered_like_h3_fills_them():
    # 40 x 30 triangles 0.018 deg apart: each far smaller than a resolution-6 cell (~36 km²)
    tris = [shapely.Polygon([(10 + 0.018 * i, 50 + 0.018 * j), (10.016 + 0.018 * i, 50 + 0.018 * j),
                             (10 + 0.018 * i, 50.016 + 0.018 * j)]) for i in range(40) for j in range(30)]
    mp = shapely.MultiPolygon(tris)
    exact, cover = overlap_cells(mp), cover_cells(mp)
    assert exact <= cover
    # the search adds only cells within a tenth of an edge of a triangle: a thin fringe
    assert len(cover) <= len(exact) * 1.3


def test_cover_of_an_aoi_across_the_antimeridian_holds_both_sides():
    aoi = import_aoi('{"type":"Polygon","coordinates":[[[179,10],[-179,10],[-179,11],[179,11],[179,10]]]}')
    cells = cover_cells(aoi.geometry)
    assert overlap_cells(aoi.geometry) <= cells
    lngs = [h3.cell_to_latlng(c)[1] for c in cells]
    assert min(lngs) < -179 and max(lngs) > 179
