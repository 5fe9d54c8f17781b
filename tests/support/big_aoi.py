"""The large legal AOI: one MultiPolygon of 200,000 triangles (800,000 vertices, under the
1,000,000 of max_vertices) as a zipped shapefile of ~1.7 MB, written with GDAL (pyogrio)."""
from __future__ import annotations

import io
import os
import tempfile
import zipfile

import numpy as np
import pyogrio.raw
import shapely

COLUMNS, ROWS, STEP = 500, 400, 0.016  # a 8.0 x 6.4 degree grid from 5 E, 45 N
TRIANGLES = COLUMNS * ROWS
VERTICES = 4 * TRIANGLES  # closed rings: three corners and the first again


def triangles(columns: int = COLUMNS, rows: int = ROWS, west: float = 5.0, south: float = 45.0,
              step: float = STEP) -> shapely.MultiPolygon:
    """Right triangles with legs 0.9 x ``step``, one per grid cell: disjoint, so a valid MultiPolygon."""
    x, y = (a.ravel() for a in np.meshgrid(west + np.arange(columns) * step, south + np.arange(rows) * step))
    leg = 0.9 * step
    rings = np.stack([np.column_stack(c) for c in ((x, y), (x + leg, y), (x, y + leg), (x, y))], axis=1)
    return shapely.MultiPolygon(list(shapely.polygons(rings)))


def zipped_shapefile(geom: shapely.MultiPolygon) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        pyogrio.raw.write(os.path.join(tmp, "big.shp"), np.array([shapely.to_wkb(geom)], dtype=object), [], [],
                          driver="ESRI Shapefile", crs="EPSG:4326", geometry_type="MultiPolygon")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(os.listdir(tmp)):
                zf.write(os.path.join(tmp, name), name)
        return buf.getvalue()
