"""Input files generated with real tools (GDAL via pyogrio, zipfile, hand-written KML)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely


def ring(w: float, s: float, e: float, n: float) -> list[list[float]]:
    return [[w, s], [e, s], [e, n], [w, n], [w, s]]


def shapefile_members(tmp: Path, stem: str, geoms, crs: str = "EPSG:4326") -> dict[str, bytes]:
    """The files of an ESRI shapefile written by GDAL (.shp, .shx, .dbf, .prj, .cpg)."""
    tmp.mkdir(parents=True, exist_ok=True)
    wkb = np.array([shapely.to_wkb(g) for g in geoms], dtype=object)
    labels = np.array([f"f{i}" for i in range(len(geoms))], dtype=object)
    pyogrio.raw.write(str(tmp / f"{stem}.shp"), wkb, [labels], ["name"], driver="ESRI Shapefile", crs=crs,
                      geometry_type="Polygon")
    return {p.name: p.read_bytes() for p in tmp.iterdir() if p.stem == stem}


def kml_polygon(r: list[list[float]]) -> str:
    coords = " ".join(f"{x},{y},0" for x, y in r)
    return (f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coords}</coordinates></LinearRing>"
            f"</outerBoundaryIs></Polygon>")


def kml(*placemarks: str) -> str:
    body = "".join(f"<Placemark><name>p{i}</name>{p}</Placemark>" for i, p in enumerate(placemarks))
    return f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>{body}</Document></kml>'


def circle_wkt(lon: float, lat: float, radius_deg: float, n: int) -> str:
    pts = [(lon + radius_deg * math.cos(2 * math.pi * k / n), lat + radius_deg * math.sin(2 * math.pi * k / n))
           for k in range(n)]
    pts.append(pts[0])
    return "POLYGON((" + ", ".join(f"{x:.7f} {y:.7f}" for x, y in pts) + "))"
