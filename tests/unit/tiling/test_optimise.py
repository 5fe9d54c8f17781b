"""Optimise: the cheapest tiles + minitiles cover (docs/domain.md, The grid).

Whole tile 0.20 x 2,621.44 = 524.288 polygon-km²; n whole minitiles 0.50 x 10.24 x n = 5.12 n:
the tile wins from n = 103 (527.36) on, minitiles up to n = 102 (522.24); 40 % of 256 = 102.4.
"""

import pytest
import shapely

from services.tiling.domain import optimise

from .helpers import E0, N0, TILE, geodesic_km2, minitile_block, utm_rect_to_lonlat


def test_aoi_needing_110_minitiles_is_cheaper_as_the_whole_tile():
    aoi = minitile_block(0, 0, 11, 10)  # 11 x 10 = 110 minitiles
    result = optimise(aoi)
    assert result.tiles == (TILE,)
    assert result.minitiles == ()
    (choice,) = result.choices
    assert len(choice.minitiles) == 110
    assert choice.tile_cost == pytest.approx(524.288)
    assert choice.minitiles_cost == pytest.approx(563.2)
    assert result.cost_polygon_km2 == pytest.approx(524.288)


def test_aoi_needing_100_minitiles_is_cheaper_as_minitiles():
    aoi = minitile_block(0, 0, 10, 10)
    result = optimise(aoi)
    assert result.tiles == ()
    assert len(result.minitiles) == 100
    assert result.cost_polygon_km2 == pytest.approx(512.0)
    assert result.minitiles_km2 == pytest.approx(1024.0)


@pytest.mark.parametrize("extra, whole", [(6, False), (7, True)])
def test_the_break_even_lies_between_102_and_103_minitiles(extra, whole):
    # 16 x 6 = 96 minitiles plus `extra` more in the seventh row: 102 or 103
    aoi = shapely.union_all([minitile_block(0, 0, 16, 6), minitile_block(0, 5, extra, 7)])
    result = optimise(aoi)
    assert len(result.choices[0].minitiles) == 96 + extra
    assert result.choices[0].whole_tile is whole


def test_cost_factor_is_relative_to_polygon_pricing_of_the_aoi():
    aoi = minitile_block(0, 0, 10, 10)
    result = optimise(aoi)
    assert result.polygon_km2 == pytest.approx(geodesic_km2(aoi), rel=1e-6)
    assert result.cost_factor == pytest.approx(512.0 / geodesic_km2(aoi), rel=1e-6)
    # 100 minitiles nearly filled: about half the polygon price
    assert result.cost_factor == pytest.approx(0.5, abs=0.01)
    assert not result.polygon_is_cheaper


def test_a_thin_aoi_is_cheaper_as_a_polygon():
    # a 100 m x 3 km strip inside one minitile: 0.3 km² vs 0.5 x 10.24 = 5.12
    aoi = utm_rect_to_lonlat(E0 + 1000, N0 + 100, E0 + 1100, N0 + 3100)
    result = optimise(aoi)
    assert len(result.minitiles) == 1
    assert result.polygon_is_cheaper
    assert result.cost_factor == pytest.approx(5.12 / geodesic_km2(aoi), rel=1e-6)


def test_overlap_strip_is_not_bought_twice():
    aoi = shapely.geometry.box(11.9, 45.0, 12.1, 45.1)  # across the 32/33 boundary at 12 E
    result = optimise(aoi)
    cells = result.tiles + result.minitiles
    assert {c.label for c in cells} == {"32N", "33N"}
    from shared.grid import cell_footprint

    for c in cells:  # each zone buys only what lies in its own 6 degree band (up to a cell)
        fp = cell_footprint(c)
        if c.zone == 32:
            assert fp.bounds[0] < 12.0
        else:
            assert fp.bounds[2] > 12.0
    assert result.uncovered_km2 == pytest.approx(0.0, abs=1e-6)


def test_switched_off_zone_is_covered_by_the_neighbours_strip_where_it_can():
    aoi = shapely.geometry.box(11.5, 45.0, 12.1, 45.1)
    result = optimise(aoi, zones=["33N"])
    assert {c.label for c in result.tiles + result.minitiles} == {"33N"}
    # zone 33's grid reaches 11.75 E; the AOI's 11.5..11.75 part stays uncovered
    assert result.uncovered_km2 == pytest.approx(geodesic_km2(shapely.geometry.box(11.5, 45.0, 11.75, 45.1)), rel=1e-4)
