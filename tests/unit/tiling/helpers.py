"""Test helpers: AOIs drawn in zone metres, transformed here with pyproj (independent of the code)."""

import math

import numpy as np
import pyproj
from shapely.geometry import Polygon

from shared.grid import CellId

TILE = CellId(33, False, 10, 100)  # E 512,000..563,200  N 5,120,000..5,171,200 (~46 N, 15 E)
E0, N0 = 512_000, 5_120_000
M = 3_200


def utm_rect(x0, y0, x1, y1, epsg=32633, step=100.0):
    t = pyproj.Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)
    nx = max(int(math.ceil((x1 - x0) / step)), 1)
    ny = max(int(math.ceil((y1 - y0) / step)), 1)
    xs = np.r_[np.linspace(x0, x1, nx + 1)[:-1], np.full(ny, x1), np.linspace(x1, x0, nx + 1)[:-1], np.full(ny, x0)]
    ys = np.r_[np.full(nx, y0), np.linspace(y0, y1, ny + 1)[:-1], np.full(nx, y1), np.linspace(y1, y0, ny + 1)[:-1]]
    lon, lat = t.transform(xs, ys)
    return Polygon(np.column_stack([lon, lat]))


def minitile_block(c0, r0, c1, r1, inset=10):
    """AOI covering minitile columns c0..c1-1 and rows r0..r1-1 of TILE, ``inset`` metres inside."""
    return utm_rect(E0 + c0 * M + inset, N0 + r0 * M + inset, E0 + c1 * M - inset, N0 + r1 * M - inset)


def geodesic_km2(poly):
    area, _ = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(poly)
    return abs(area) / 1e6
