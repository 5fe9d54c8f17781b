"""Cell geometry against independent pyproj transforms (done here, in the test)."""

import math

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from shared.grid import (
    CellId,
    GridError,
    GridErrorCode,
    cell_area_km2,
    cell_footprint,
    children,
    describe,
    is_in_grid,
    is_whole,
)


def to_utm(epsg):
    return pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)


def to_ll(epsg):
    return pyproj.Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)


INTERIOR_TILE = CellId(33, False, 10, 100)  # E 512.0-563.2 km, N 5,120.0-5,171.2 km (~46.2 N, 15.2 E)


def test_interior_tile_is_51_2_km_square():
    assert cell_area_km2(INTERIOR_TILE) == pytest.approx(2621.44, abs=1e-9)
    assert is_whole(INTERIOR_TILE)


def test_interior_minitile_is_3_2_km_square():
    assert cell_area_km2(INTERIOR_TILE.minitile_at(77)) == pytest.approx(10.24, abs=1e-9)


def test_interior_tile_has_256_minitiles():
    assert len(children(INTERIOR_TILE)) == 256


def test_footprint_corners_are_the_utm_square_corners():
    fp = cell_footprint(INTERIOR_TILE)
    inv = to_ll(32633)
    for x, y in [(512_000, 5_120_000), (563_200, 5_120_000), (563_200, 5_171_200), (512_000, 5_171_200)]:
        lon, lat = inv.transform(x, y)
        assert min(Point(lon, lat).distance(Point(c)) for c in fp.exterior.coords) < 1e-9


def test_footprint_is_counter_clockwise():
    assert cell_footprint(INTERIOR_TILE).exterior.is_ccw


def _edge_errors_m(cell, epsg):
    """Distance in metres between the footprint's straight lon/lat chords (at their midpoints) and
    the cell's true straight UTM edges."""
    fp = cell_footprint(cell)
    ring = np.asarray(fp.exterior.coords)
    mid = (ring[:-1] + ring[1:]) / 2
    x, y = to_utm(epsg).transform(mid[:, 0], mid[:, 1])
    x0, y0, x1, y1 = cell.bounds_utm
    return np.minimum.reduce([np.abs(x - x0), np.abs(x - x1), np.abs(y - y0), np.abs(y - y1)])


@pytest.mark.parametrize(
    "cell",
    [
        INTERIOR_TILE,
        CellId(33, False, 9, 180),  # N 9,216-9,267 km: ~83 N, the sharpest curvature in the north
        CellId(33, False, 15, 10),  # E 768-819 km near the equator: far from the central meridian
        CellId(33, True, 9, 24),  # N 1,229 km in the south: ~79 S
    ],
)
def test_footprint_edges_are_right_to_within_a_metre(cell):
    assert is_whole(cell)
    assert _edge_errors_m(cell, cell.epsg).max() < 1.0


def test_footprint_vertices_lie_on_the_square():
    fp = cell_footprint(INTERIOR_TILE)
    ring = np.asarray(fp.exterior.coords)
    x, y = to_utm(32633).transform(ring[:, 0], ring[:, 1])
    x0, y0, x1, y1 = INTERIOR_TILE.bounds_utm
    off = np.minimum.reduce([np.abs(x - x0), np.abs(x - x1), np.abs(y - y0), np.abs(y - y1)])
    assert off.max() < 1e-6


def test_neighbouring_tiles_share_their_edge_exactly():
    west = cell_footprint(INTERIOR_TILE)
    east = cell_footprint(CellId(33, False, 11, 100))
    north = cell_footprint(CellId(33, False, 10, 101))
    assert shapely.intersection(west, east).area == 0
    shared_we = set(west.exterior.coords) & set(east.exterior.coords)
    assert len(shared_we) == 65  # the common edge, sampled every 800 m: 51,200 / 800 + 1 points
    assert len(set(west.exterior.coords) & set(north.exterior.coords)) == 65


def test_a_tile_and_its_minitiles_share_their_outline():
    tile = cell_footprint(INTERIOR_TILE)
    union = shapely.union_all([cell_footprint(m) for m in children(INTERIOR_TILE)])
    assert shapely.symmetric_difference(tile, union).area == pytest.approx(0, abs=1e-12)


def test_south_hemisphere_uses_false_northing():
    # row 195 in the south: N 9,984.0 .. 10,035.2 km, but the south grid ends at the equator
    # (N = 10,000 km): a 16 km tall strip of 51.2 km: 819.2 km², 5 rows x 16 = 80 minitiles
    tile = CellId(33, True, 10, 195)
    assert tile.epsg == 32733
    assert cell_area_km2(tile) == pytest.approx(51.2 * 16.0, abs=1e-6)
    assert len(children(tile)) == 80
    fp = cell_footprint(tile)
    assert fp.bounds[3] == pytest.approx(0.0, abs=1e-9)
    lon, lat = to_ll(32733).transform(512_000, 9_984_000)
    assert fp.bounds[1] == pytest.approx(lat, abs=1e-9)


def _band_area_km2(zone, south, bounds):
    """Independent: the widened band as a finely sampled polygon, intersected with the square."""
    lon0 = -183 + 6 * zone
    w, e = lon0 - 3.25, lon0 + 3.25
    lats = np.linspace(-80, 0, 16001) if south else np.linspace(0, 84, 16801)
    lons = np.linspace(w, e, 1301)
    ring_lon = np.r_[np.full(len(lats), w), lons, np.full(len(lats), e), lons[::-1]]
    ring_lat = np.r_[lats, np.full(len(lons), lats[-1]), lats[::-1], np.full(len(lons), lats[0])]
    x, y = to_utm((32700 if south else 32600) + zone).transform(ring_lon, ring_lat)
    band = Polygon(np.column_stack([x, y])).buffer(0)
    return band.intersection(box(*bounds)).area / 1e6


@pytest.mark.parametrize(
    "cell",
    [
        CellId(33, False, 3, 50),  # west edge of the band, ~23 N (band edge near E 167 km)
        CellId(33, False, 16, 50),  # east edge (near E 833 km)
        CellId(33, False, 9, 182),  # top row: crosses 84 N (N 9,329 km)
        CellId(33, True, 10, 21),  # bottom row in the south: crosses 80 S (N 1,117 km)
        CellId(33, False, 3, 50, 4),  # a minitile on the west edge
    ],
)
def test_edge_cells_are_clipped_to_the_widened_band(cell):
    expected = _band_area_km2(cell.zone, cell.south, cell.bounds_utm)
    full = cell.level.size_m**2 / 1e6
    assert 0 < expected < full
    assert not is_whole(cell)
    assert cell_area_km2(cell) == pytest.approx(expected, rel=1e-5)


def test_edge_tile_has_fewer_minitiles_and_their_areas_add_up():
    tile = CellId(33, False, 3, 50)
    kids = children(tile)
    assert 0 < len(kids) < 256
    assert sum(cell_area_km2(k) for k in kids) == pytest.approx(cell_area_km2(tile), rel=1e-9)
    assert all(is_in_grid(k) for k in kids)


def test_edge_footprint_stops_at_the_widened_meridian():
    fp = cell_footprint(CellId(33, False, 3, 50))
    assert fp.bounds[0] == pytest.approx(15 - 3.25, abs=1e-9)


def test_footprint_top_row_stops_at_84_north():
    assert cell_footprint(CellId(33, False, 9, 182)).bounds[3] == pytest.approx(84.0, abs=1e-9)


def test_point_in_overlap_strip_belongs_to_tiles_of_both_zones():
    # lon 12.1 is in zone 33 (12..18) and within 0.25 degree of zone 32 (6..12)
    lon, lat = 12.1, 45.0
    for zone in (32, 33):
        x, y = to_utm(32600 + zone).transform(lon, lat)
        tile = CellId(zone, False, math.floor(x / 51_200), math.floor(y / 51_200))
        assert is_in_grid(tile)
        assert cell_footprint(tile).contains(Point(lon, lat))


def test_point_beyond_the_strip_is_not_in_the_neighbour_zone():
    lon, lat = 12.3, 45.0  # 0.3 degree east of zone 32's band: beyond its 0.25 degree strip
    x, y = to_utm(32632).transform(lon, lat)
    tile = CellId(32, False, math.floor(x / 51_200), math.floor(y / 51_200))
    if is_in_grid(tile):
        assert not cell_footprint(tile).contains(Point(lon, lat))


def test_zone_1_cells_reach_over_the_antimeridian_as_a_split_footprint():
    # zone 1 spans -180..-174; widened, it reaches 0.25 degree west of -180 (to 179.75 E)
    x, y = to_utm(32601).transform(179.9, 5.0)
    tile = CellId(1, False, math.floor(x / 51_200), math.floor(y / 51_200))
    fp = cell_footprint(tile)
    assert fp.geom_type == "MultiPolygon"
    assert fp.contains(Point(179.9, 5.0))
    assert fp.bounds[0] == pytest.approx(-180.0, abs=1e-9) or fp.bounds[0] >= -180


def test_describe_carries_the_api_fields():
    d = describe(INTERIOR_TILE).as_dict()
    assert d["code"] == "33N-C0010-R0100"
    assert d["zone"] == "33N"
    assert d["epsg"] == 32633
    assert d["area_km2"] == pytest.approx(2621.44)
    assert d["footprint"]["type"] == "Polygon"


def test_footprint_of_a_cell_outside_the_grid_is_refused():
    with pytest.raises(GridError) as e:
        cell_footprint(CellId(33, False, 0, 50))
    assert e.value.code is GridErrorCode.OUT_OF_GRID
