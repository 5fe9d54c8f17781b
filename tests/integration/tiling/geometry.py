"""AOIs drawn in zone metres (independent pyproj transforms), for figures worked by hand."""
from __future__ import annotations

import numpy as np
import pyproj
from shapely.geometry import Polygon, mapping

ZONE33N = pyproj.Transformer.from_crs(32633, 4326, always_xy=True)

# Tile 33N column 9 row 100: E 460,800..512,000, N 5,120,000..5,171,200 (about 14.5 E, 46.2 N):
# a whole tile near the central meridian (15 E), far from any zone overlap strip.
TILE_E0, TILE_N0 = 9 * 51_200, 100 * 51_200
MINI = 3_200


def utm_rectangle(e0: float, n0: float, e1: float, n1: float, step: float = 200.0) -> Polygon:
    """A rectangle in 33N metres as a lon/lat polygon, its edges sampled every ``step`` metres so it
    follows the UTM straight lines to well under a metre."""
    def edge(a, b):
        n = max(int(np.ceil(np.hypot(b[0] - a[0], b[1] - a[1]) / step)), 1)
        t = np.arange(n) / n
        return np.column_stack([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t])

    corners = [(e0, n0), (e1, n0), (e1, n1), (e0, n1)]
    ring = np.vstack([edge(corners[i], corners[(i + 1) % 4]) for i in range(4)])
    lon, lat = ZONE33N.transform(ring[:, 0], ring[:, 1])
    return Polygon(np.column_stack([lon, lat]))


def minitile_block(c0: int, r0: int, cols: int, rows: int, inset: float = 100.0) -> Polygon:
    """A rectangle covering minitile columns c0..c0+cols-1 and rows r0..r0+rows-1 of the tile above,
    inset by ``inset`` metres so that it touches no neighbouring minitile."""
    return utm_rectangle(TILE_E0 + c0 * MINI + inset, TILE_N0 + r0 * MINI + inset,
                         TILE_E0 + (c0 + cols) * MINI - inset, TILE_N0 + (r0 + rows) * MINI - inset)


def lonlat(e: float, n: float) -> tuple[float, float]:
    lon, lat = ZONE33N.transform(e, n)
    return float(lon), float(lat)


def geojson(poly: Polygon) -> dict:
    return mapping(poly)
