"""Test helpers: AOIs drawn in zone metres, transformed here with pyproj (independent of the code)."""

import pyproj

from shared.grid import CellId
from tests.support.geometry import utm_rect_to_lonlat

TILE = CellId(33, False, 10, 100)  # E 512,000..563,200  N 5,120,000..5,171,200 (~46 N, 15 E)
E0, N0 = 512_000, 5_120_000
M = 3_200


def minitile_block(c0, r0, c1, r1, inset=10):
    """AOI covering minitile columns c0..c1-1 and rows r0..r1-1 of TILE, ``inset`` metres inside."""
    return utm_rect_to_lonlat(E0 + c0 * M + inset, N0 + r0 * M + inset, E0 + c1 * M - inset, N0 + r1 * M - inset)


def geodesic_km2(poly):
    area, _ = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(poly)
    return abs(area) / 1e6
