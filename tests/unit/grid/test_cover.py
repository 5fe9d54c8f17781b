"""Cover: the exact set of cells an AOI overlaps, checked on hand-worked AOIs and against an
independent per-cell shapely computation."""

import math

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, Polygon, box

from shared.grid import CellId, GridError, GridErrorCode, Level, cover
from tests.support.geometry import utm_rect_to_lonlat

TO_LL_33N = pyproj.Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)




TILE = CellId(33, False, 10, 100)  # E 512,000..563,200  N 5,120,000..5,171,200
E0, N0 = 512_000, 5_120_000


def test_rectangle_inside_one_tile_covers_exactly_its_minitiles():
    # minitile columns 2..6 and rows 3..4 (5 x 2 = 10 minitiles), 10 m inside their outer edges
    aoi = utm_rect_to_lonlat(E0 + 2 * 3200 + 10, N0 + 3 * 3200 + 10, E0 + 7 * 3200 - 10, N0 + 5 * 3200 - 10)
    got = cover(aoi, Level.MINITILE)
    assert [z.label for z in got.zones] == ["33N"]
    expected = {TILE.minitile_at(16 * r + c) for r in (3, 4) for c in range(2, 7)}
    assert set(got.cells()) == expected
    assert set(cover(aoi, Level.TILE).cells()) == {TILE}


def test_shares_of_a_rectangle_are_its_area_fractions():
    # 15,980 m x 6,380 m AOI; a corner minitile holds 3,190 x 3,190 m, a middle one 3,200 x 3,190 m
    aoi = utm_rect_to_lonlat(E0 + 2 * 3200 + 10, N0 + 3 * 3200 + 10, E0 + 7 * 3200 - 10, N0 + 5 * 3200 - 10)
    shares = cover(aoi, Level.MINITILE).shares()
    total = 15_980 * 6_380
    assert shares[TILE.minitile_at(16 * 3 + 2)] == pytest.approx(3190 * 3190 / total, rel=1e-6)
    assert shares[TILE.minitile_at(16 * 3 + 4)] == pytest.approx(3200 * 3190 / total, rel=1e-6)
    assert sum(shares.values()) == pytest.approx(1.0, rel=1e-9)
    assert cover(aoi, Level.TILE).shares()[TILE] == pytest.approx(1.0, rel=1e-9)


def test_aoi_across_a_tile_corner_touches_four_tiles_with_their_shares():
    # 10 km x 10 km square centred on the corner E 563,200 / N 5,171,200: a quarter in each tile
    aoi = utm_rect_to_lonlat(E0 + 51_200 - 5_000, N0 + 51_200 - 5_000, E0 + 51_200 + 5_000, N0 + 51_200 + 5_000)
    shares = cover(aoi, Level.TILE).shares()
    assert set(shares) == {CellId(33, False, c, r) for c in (10, 11) for r in (100, 101)}
    for s in shares.values():
        assert s == pytest.approx(0.25, rel=1e-6)
    # minitiles: 5,000 m = 1 full minitile (3,200) + 1,800 m on each side of each axis: 4 x 4 = 16
    assert len(cover(aoi, Level.MINITILE)) == 16


def test_aoi_equal_to_a_tile_footprint_covers_that_tile_only():
    from shared.grid import cell_footprint

    fp = cell_footprint(TILE)
    assert set(cover(fp, Level.TILE).cells()) == {TILE}
    assert len(cover(fp, Level.MINITILE)) == 256


def test_cells_that_only_touch_the_aoi_are_not_covered():
    # the rectangle ends exactly on minitile grid lines: its neighbours only share an edge with it
    # (vertices every 800 m: edges under 1 km are taken as drawn, so they map back onto the lines)
    aoi = utm_rect_to_lonlat(E0 + 3200, N0 + 3200, E0 + 2 * 3200, N0 + 2 * 3200, step=800)
    assert set(cover(aoi, Level.MINITILE).cells()) == {TILE.minitile_at(17)}


def test_holes_are_not_covered():
    outer = utm_rect_to_lonlat(E0 + 100, N0 + 100, E0 + 5 * 3200 - 100, N0 + 5 * 3200 - 100)
    hole = utm_rect_to_lonlat(E0 + 2 * 3200 - 50, N0 + 2 * 3200 - 50, E0 + 3 * 3200 + 50, N0 + 3 * 3200 + 50)
    hole_ring = list(hole.exterior.coords)[::-1]
    aoi = Polygon(outer.exterior.coords, [hole_ring])
    got = set(cover(aoi, Level.MINITILE).cells())
    # 5 x 5 block = 25 minitiles; the hole's 3,300 m square only strays 50 m into the 8 minitiles
    # around the centre one, so only the centre minitile (index 2*16+2 = 34) drops out
    assert len(got) == 24
    assert TILE.minitile_at(34) not in got


def test_point_sized_aoi_in_the_overlap_strip_is_in_both_zones():
    aoi = box(12.1, 45.0, 12.1001, 45.0001)
    got = cover(aoi, Level.TILE)
    labels = sorted(z.label for z in got.zones)
    assert labels == ["32N", "33N"]
    for z in got.zones:
        t = pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{z.epsg}", always_xy=True)
        x, y = t.transform(12.1, 45.0)
        assert z.cells() == [CellId(z.zone, False, math.floor(x / 51_200), math.floor(y / 51_200))]
        assert z.share[0] == pytest.approx(1.0, rel=1e-9)


def test_zone_filter_keeps_only_the_switched_on_zones():
    aoi = box(12.1, 45.0, 12.1001, 45.0001)
    assert [z.label for z in cover(aoi, Level.TILE, zones=["33N"]).zones] == ["33N"]
    assert [z.label for z in cover(aoi, Level.TILE, zones=[32]).zones] == ["32N"]
    assert len(cover(aoi, Level.TILE, zones=["31N"])) == 0


def test_aoi_across_the_equator_is_split_between_the_hemisphere_grids():
    got = cover(box(15.0, -0.01, 15.01, 0.01), Level.TILE)
    assert sorted(z.label for z in got.zones) == ["33N", "33S"]
    assert sum(float(z.share.sum()) for z in got.zones) == pytest.approx(1.0, rel=1e-3)


def test_aoi_at_the_antimeridian_is_in_zone_60_and_zone_1():
    got = cover(box(179.9, 10.0, 179.95, 10.05), Level.TILE)
    assert sorted(z.label for z in got.zones) == ["1N", "60N"]


def test_parts_beyond_84_north_are_outside_the_grid():
    got = cover(box(15.0, 83.9, 15.1, 85.0), Level.TILE)
    inside, _ = pyproj.Geod(ellps="WGS84").polygon_area_perimeter([15.0, 15.1, 15.1, 15.0], [83.9, 83.9, 84.0, 84.0])
    assert got.aoi_km2 == pytest.approx(abs(inside) / 1e6, rel=1e-6)
    assert sum(float(z.share.sum()) for z in got.zones) == pytest.approx(1.0, rel=1e-6)
    for z in got.zones:
        for cell in z.cells():
            assert cell.bounds_utm[1] < 9_329_164  # no row starts north of 84 N


def test_non_polygonal_input_is_refused():
    with pytest.raises(GridError) as e:
        cover(Point(15, 45))
    assert e.value.code is GridErrorCode.INVALID_GEOMETRY
    with pytest.raises(GridError):
        cover(box(500_000, 5_000_000, 510_000, 5_010_000))  # metres without a CRS


def test_geometry_collection_ignores_lines_and_merges_overlaps():
    a = utm_rect_to_lonlat(E0 + 100, N0 + 100, E0 + 3100, N0 + 3100)
    gc = GeometryCollection([a, a, LineString([(15, 46), (15.5, 46.5)])])
    got = cover(gc, Level.MINITILE)
    assert set(got.cells()) == {TILE.minitile_at(0)}
    assert got.zones[0].share[0] == pytest.approx(1.0, rel=1e-9)


def _random_star(rng, lon, lat, radius_deg, n):
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = rng.uniform(0.2, 1.0, n) * radius_deg
    return Polygon(np.column_stack([lon + radii * np.cos(angles) / math.cos(math.radians(lat)),
                                    lat + radii * np.sin(angles)]))


@pytest.mark.parametrize("seed", range(6))
def test_cover_matches_an_independent_per_cell_intersection(seed):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-170, 170)
    lat = rng.uniform(-70, 75)
    aoi = _random_star(rng, lon, lat, rng.uniform(0.05, 0.6), int(rng.integers(5, 40)))
    if rng.random() < 0.5:
        aoi = MultiPolygon([aoi, _random_star(rng, lon + 1.5, lat, 0.2, 8)]).buffer(0)
    level = Level.MINITILE if seed % 2 else Level.TILE
    size = level.size_m
    got = cover(aoi, level)
    assert len(got) > 0
    for z in got.zones:
        # reference: the AOI densified finely and transformed here, clipped to the zone band
        lon0 = -183 + 6 * z.zone
        band = box(lon0 - 3.25, -80 if z.south else 0, lon0 + 3.25, 0 if z.south else 84)
        piece = shapely.segmentize(aoi.intersection(band), 0.002)
        t = pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{z.epsg}", always_xy=True)
        utm = shapely.transform(piece, lambda c, t=t: np.column_stack(t.transform(c[:, 0], c[:, 1])))
        x0, y0, x1, y1 = utm.bounds
        cols, rows = np.meshgrid(np.arange(x0 // size, x1 // size + 1), np.arange(y0 // size, y1 // size + 1))
        cols, rows = cols.ravel().astype(int), rows.ravel().astype(int)
        overlap = shapely.area(shapely.intersection(utm,
                                                    shapely.box(cols * size, rows * size, (cols + 1) * size,
                                                                (rows + 1) * size)))
        ref = {(c, r): a for c, r, a in zip(cols.tolist(), rows.tolist(), overlap.tolist(), strict=True)}
        got_cells = {}
        for cell, area in zip(z.cells(), z.overlap_m2.tolist(), strict=True):
            x, y, _, _ = cell.bounds_utm
            got_cells[(x // size, y // size)] = area
        sure = {k for k, a in ref.items() if a > 1.0}  # more than 1 m² of overlap
        assert sure <= set(got_cells)
        assert all(ref.get(k, 0.0) > 0 for k in got_cells)
        for k, a in got_cells.items():
            # the reference's densification differs slightly from the cover's (edges of a few mm)
            assert a == pytest.approx(ref[k], abs=50.0 + 1e-5 * size * size)
