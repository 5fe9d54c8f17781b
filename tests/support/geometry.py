"""Test geometry: AOIs drawn in zone metres, transformed here with pyproj (independent of the code)."""
import math

import numpy as np
import pyproj
from shapely.geometry import Polygon


def utm_rect_to_lonlat(x0, y0, x1, y1, epsg=32633, step=100.0):
    """A rectangle drawn in zone metres, sampled every 100 m, as a lon/lat polygon (independent
    pyproj transform): its edges stay within millimetres of the straight UTM edges."""
    t = pyproj.Transformer.from_crs(f"EPSG:{epsg}", "EPSG:4326", always_xy=True)
    nx = max(int(math.ceil((x1 - x0) / step)), 1)
    ny = max(int(math.ceil((y1 - y0) / step)), 1)
    xs = np.r_[np.linspace(x0, x1, nx + 1)[:-1], np.full(ny, x1), np.linspace(x1, x0, nx + 1)[:-1], np.full(ny, x0)]
    ys = np.r_[np.full(nx, y0), np.linspace(y0, y1, ny + 1)[:-1], np.full(nx, y1), np.linspace(y1, y0, ny + 1)[:-1]]
    lon, lat = t.transform(xs, ys)
    return Polygon(np.column_stack([lon, lat]))
