"""The single entry point: decode, normalise and validate an AOI (docs/domain.md, AOI rules).

>>> aoi = import_aoi('POLYGON((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50))')
>>> round(aoi.totals.area_km2, 2)
79.66
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from . import measure
from .errors import (
    AREA_TOO_LARGE,
    COORDINATES_OUT_OF_RANGE,
    EMPTY_INPUT,
    INVALID_RING,
    LATITUDE_OUT_OF_RANGE,
    NO_POLYGON,
    TOO_MANY_PARTS,
    TOO_MANY_VERTICES,
    UNREADABLE,
    UPLOAD_TOO_LARGE,
    W_ANTIMERIDIAN_SPLIT,
    W_BELOW_MINIMUM_AREA,
    W_DISSOLVED,
    W_DROPPED_NON_POLYGON,
    W_OVERLAP,
    W_REPAIRED,
    AoiError,
    warning,
)
from .normalize import orient, split_antimeridian, to_wgs84, unwrap, wrap_bounds
from .readers import Decoded, Layer, Limits, read_aoi
from .rules import (
    MAX_LATITUDE,
    MIN_BILLABLE_KM2,
    MIN_LATITUDE,
    billable_km2,
    check_bbox_sides,
    check_fill,
    invalid_ring_error,
)

__all__ = ["ImportedAoi", "Limits", "PartReport", "Totals", "import_aoi", "import_geometry"]

_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7


@dataclass(frozen=True)
class PartReport:
    """Facts about one part (a Polygon or a MultiPolygon checked as one unit)."""

    index: int  # 1-based, as in error messages ("Polygon 3")
    kind: str  # "Polygon" | "MultiPolygon" (as given; an antimeridian split keeps the kind)
    area_km2: float  # geodesic, holes excluded
    billable_km2: float  # max(area, 0.5)
    bbox: list[float]  # [west, south, east, north]; west > east across the antimeridian
    bbox_width_m: float  # shorter east-west side (the parallel farther from the equator)
    bbox_height_m: float  # north-south side (meridian arc)
    fill_ratio: float  # area / geodesic area of the bbox polygon
    vertex_count: int  # coordinates of the normalised part (closing points included)
    crosses_antimeridian: bool = False


@dataclass(frozen=True)
class Totals:
    parts: int
    area_km2: float
    billable_km2: float
    vertex_count: int
    bbox: list[float]


@dataclass(frozen=True)
class ImportedAoi:
    """A normalised, validated AOI: ``geometry`` is a GeometryCollection of Polygons and
    MultiPolygons in EPSG:4326 (one member per part, in ``parts`` order)."""

    geometry: shapely.GeometryCollection
    parts: tuple[PartReport, ...]
    totals: Totals
    warnings: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    source_format: str = "geometry"

    def to_geojson(self) -> dict[str, Any]:
        """The geometry as a GeoJSON GeometryCollection (plain lists, JSON-ready)."""
        doc: dict[str, Any] = _lists(mapping(self.geometry))
        return doc

    def report(self) -> dict[str, Any]:
        """The report as a JSON-ready dict: ``{source_format, parts, totals, warnings}``."""
        return {
            "source_format": self.source_format,
            "parts": [asdict(p) for p in self.parts],
            "totals": asdict(self.totals),
            "warnings": [dict(w) for w in self.warnings],
        }


def _lists(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_lists(v) for v in obj]
    return obj


# ------------------------------------------------------------------------------------------


def import_aoi(data: bytes | str, *, filename: str | None = None,
               content_type: str | None = None, repair: bool = False, dissolve: bool = False,
               limits: Limits = Limits()) -> ImportedAoi:
    """Decode (format detected from the content), normalise and validate an AOI.

    ``data`` is an uploaded file's bytes or pasted text. ``repair`` applies make-valid to
    invalid parts (reporting the area change); ``dissolve`` merges overlapping parts.
    Raises :class:`~shared.geo.errors.AoiError` for every refusal, and nothing else for bad
    input.
    """
    size = len(data.encode("utf-8")) if isinstance(data, str) else len(data)
    if size > limits.max_upload_bytes:
        raise AoiError(UPLOAD_TOO_LARGE,
                       f"The upload is {size:,} bytes, over the limit of "
                       f"{limits.max_upload_bytes:,} bytes (max_upload_bytes); simplify the "
                       f"geometry or split it into several AOIs.",
                       where={"limit": "max_upload_bytes", "value": limits.max_upload_bytes,
                              "actual": size})
    if size == 0:
        raise AoiError(EMPTY_INPUT, "The input is empty; send a polygon as GeoJSON, WKT or a file.")
    try:
        decoded = read_aoi(data, filename=filename, content_type=content_type, limits=limits)
        return _process(decoded, repair=repair, dissolve=dissolve, limits=limits)
    except AoiError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise AoiError(UNREADABLE, f"The input is too complex to read ({type(exc).__name__}); "
                                   f"simplify it.") from None
    except Exception as exc:  # never let a parser/GEOS/GDAL error become a 5xx
        raise AoiError(UNREADABLE, f"The input could not be read ({type(exc).__name__}: "
                                   f"{str(exc)[:160]}).") from None


def import_geometry(geometry: BaseGeometry, *, crs: str | None = None, repair: bool = False,
                    dissolve: bool = False, limits: Limits = Limits()) -> ImportedAoi:
    """Normalise and validate an already-decoded shapely geometry (in ``crs``, default WGS84
    lon/lat), e.g. an inline AOI another service parsed itself."""
    try:
        return _process(Decoded("geometry", [Layer([geometry], crs)]), repair=repair,
                        dissolve=dissolve, limits=limits)
    except AoiError:
        raise
    except Exception as exc:
        raise AoiError(UNREADABLE, f"The geometry could not be processed ({type(exc).__name__}: "
                                   f"{str(exc)[:160]}).") from None


# ------------------------------------------------------------------------------------------
# pipeline


def _flatten(geoms: list[BaseGeometry]) -> tuple[np.ndarray, int]:
    """Polygons/MultiPolygons in order (collections opened), and the count of dropped
    non-empty points/lines."""
    arr = np.asarray(geoms, dtype=object) if geoms else np.empty(0, dtype=object)
    if len(arr) and arr.ndim != 1:
        arr = np.array(list(geoms) + [None], dtype=object)[:-1]
    arr = arr[~shapely.is_missing(arr)] if len(arr) else arr
    types = shapely.get_type_id(arr)
    while (types == _COLLECTION).any():
        expanded: list[BaseGeometry] = []
        for g, t in zip(arr, types, strict=True):
            if t == _COLLECTION:
                expanded.extend(shapely.get_parts(g))
            else:
                expanded.append(g)
        arr = np.empty(len(expanded), dtype=object)
        arr[:] = expanded
        types = shapely.get_type_id(arr)
    polygonal = (types == _POLYGON) | (types == _MULTIPOLYGON)
    empty = shapely.is_empty(arr)
    # Every point/line counts (KML readers pass them as empty LineString markers).
    dropped = int((~polygonal).sum())
    return arr[polygonal & ~empty], dropped


def _label(parts: np.ndarray, i: int) -> str:
    return ("MultiPolygon" if shapely.get_type_id(parts[i]) == _MULTIPOLYGON else "Polygon") + \
        f" {i + 1}"


def _process(decoded: Decoded, *, repair: bool, dissolve: bool, limits: Limits) -> ImportedAoi:
    warnings: list[dict[str, Any]] = list(decoded.warnings)

    # 1. polygonal parts, per layer, then limits that need no geometry work
    layer_parts: list[tuple[np.ndarray, str | None]] = []
    dropped = 0
    for layer in decoded.layers:
        arr, d = _flatten(layer.geometries)
        dropped += d
        if len(arr):
            layer_parts.append((arr, layer.crs))
    n_parts = sum(len(a) for a, _ in layer_parts)
    if n_parts == 0:
        if dropped:
            raise AoiError(NO_POLYGON, f"The input holds {dropped} point or line feature(s) but no "
                                       f"polygon; an AOI must be a Polygon or MultiPolygon.",
                           where={"dropped": dropped})
        raise AoiError(EMPTY_INPUT, "The input holds no geometry; send at least one polygon.")
    if dropped:
        warnings.append(warning(W_DROPPED_NON_POLYGON,
                                f"{dropped} point or line feature(s) were dropped; only polygons "
                                f"are kept.", count=dropped))
    if n_parts > limits.max_parts:
        raise AoiError(TOO_MANY_PARTS, f"The AOI has {n_parts:,} parts, over the limit of "
                                       f"{limits.max_parts:,} (max_parts); merge parts or split "
                                       f"the upload into several AOIs.",
                       where={"limit": "max_parts", "value": limits.max_parts, "actual": n_parts})
    n_vertices = int(sum(shapely.get_num_coordinates(a).sum() for a, _ in layer_parts))
    if n_vertices > limits.max_vertices:
        raise AoiError(TOO_MANY_VERTICES, f"The AOI has {n_vertices:,} vertices, over the limit of "
                                          f"{limits.max_vertices:,} (max_vertices); simplify the "
                                          f"geometry.",
                       where={"limit": "max_vertices", "value": limits.max_vertices,
                              "actual": n_vertices})

    # 2. to WGS84 lon/lat, 2D
    parts = np.concatenate([to_wgs84(a, crs) for a, crs in layer_parts])
    projected_input = any(crs for _, crs in layer_parts)

    # 3. coordinates: finite, in range, inside UTM latitudes (vectorised; details on error only)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        k = int(np.argmax(~finite))
        i = int(cidx[k])
        raise AoiError(INVALID_RING, f"{_label(parts, i)}: a coordinate is not a finite number "
                                     f"(NaN or infinity); fix or remove it.",
                       where={"part": i + 1, "reason": "non_finite"})
    bounds = shapely.bounds(parts)
    out_lon = (bounds[:, 0] < -180.0) | (bounds[:, 2] > 180.0)
    out_lat = (bounds[:, 1] < -90.0) | (bounds[:, 3] > 90.0)
    if (out_lon | out_lat).any():
        raise _out_of_range(parts, coords, cidx, projected_input)
    bad_lat = (bounds[:, 1] < MIN_LATITUDE) | (bounds[:, 3] > MAX_LATITUDE)
    if bad_lat.any():
        i = int(np.argmax(bad_lat))
        sel = coords[cidx == i]
        k = int(np.argmax((sel[:, 1] < MIN_LATITUDE) | (sel[:, 1] > MAX_LATITUDE)))
        x, y = sel[k]
        raise AoiError(LATITUDE_OUT_OF_RANGE,
                       f"{_label(parts, i)}: latitude {y:.4f} at {x:.4f} {y:.4f} is outside "
                       f"{MIN_LATITUDE:g}..{MAX_LATITUDE:g}° (the UTM range the imagery grid "
                       f"covers); remove the polar area.",
                       where={"part": i + 1, "coordinate": [float(x), float(y)],
                              "limit": [MIN_LATITUDE, MAX_LATITUDE]})

    # 4. antimeridian: make longitudes continuous for crossing parts
    parts, crossing = unwrap(parts)

    # 5. validity (explain only on the error path), optional repair
    valid = shapely.is_valid(parts)
    if not valid.all():
        bad = np.flatnonzero(~valid)
        if not repair:
            i = int(bad[0])
            raise invalid_ring_error(_label(parts, i), i + 1, shapely.is_valid_reason(parts[i]))
        parts = parts.copy()
        for i in bad.tolist():
            label = _label(parts, int(i))
            reason = invalid_ring_error(label, int(i) + 1, shapely.is_valid_reason(parts[i]))
            before = measure.geodesic_area_m2(parts[i]) / 1e6
            fixed = _polygonal(shapely.make_valid(parts[i], method="structure",
                                                  keep_collapsed=False))
            if fixed is None:
                raise AoiError(INVALID_RING, f"{label}: the ring collapses to nothing when "
                                             f"repaired (it encloses no area); redraw it.",
                               where={"part": int(i) + 1, "reason": "collapsed"})
            parts[i] = fixed
            after = measure.geodesic_area_m2(fixed) / 1e6
            warnings.append(warning(
                W_REPAIRED, f"{label} was invalid ({reason.message.split(': ', 1)[1].split(';')[0]}"
                            f") and was repaired; its area changed from {before:.4f} to "
                            f"{after:.4f} km².",
                part=int(i) + 1, reason=reason.where.get("reason"), area_before_km2=before,
                area_after_km2=after))

    # 6. optional dissolve of overlapping parts
    if dissolve and len(parts) > 1:
        merged = shapely.union_all(parts)
        pieces = [p for p in shapely.get_parts(merged) if shapely.get_type_id(p) == _POLYGON]
        if len(pieces) != len(parts):
            warnings.append(warning(W_DISSOLVED, f"Dissolve merged {len(parts)} parts into "
                                                 f"{len(pieces)}.", before=len(parts),
                                    after=len(pieces)))
        new = np.empty(len(pieces), dtype=object)
        new[:] = pieces
        parts = new
        crossing = (shapely.bounds(parts)[:, 0] < -180.0) | (shapely.bounds(parts)[:, 2] > 180.0)

    # 7. orientation (RFC 7946) and the antimeridian split into [-180, 180]. Areas and vertex
    # counts are taken from the split form (the cut adds vertices on ±180, which changes a
    # geodesic area slightly), bounding boxes from the unwrapped form; so normalising the
    # output again gives the same report.
    parts = orient(parts)
    out = parts.copy()
    for i in np.flatnonzero(crossing).tolist():
        out[i] = split_antimeridian(parts[i])
    if crossing.any():
        warnings.append(warning(W_ANTIMERIDIAN_SPLIT,
                                f"{int(crossing.sum())} part(s) cross the antimeridian and were "
                                f"split at ±180°.",
                                parts=[int(i) + 1 for i in np.flatnonzero(crossing)]))

    # 8. measures and the per-part rules
    bounds = shapely.bounds(parts)
    vertex_counts = shapely.get_num_coordinates(out)
    reports: list[PartReport] = []
    for i in range(len(parts)):
        label = _label(parts, i)
        west, south, east, north = (float(v) for v in bounds[i])
        b = (west, south, east, north)
        width, height = measure.bbox_sides_m(b)
        check_bbox_sides(label, i + 1, width, height)
        area = measure.geodesic_area_m2(out[i]) / 1e6
        bbox_km2 = measure.bbox_area_m2(b) / 1e6
        check_fill(label, i + 1, area, bbox_km2)
        reports.append(PartReport(
            index=i + 1, kind=label.split()[0], area_km2=area, billable_km2=billable_km2(area),
            bbox=wrap_bounds(b), bbox_width_m=width, bbox_height_m=height,
            fill_ratio=area / bbox_km2, vertex_count=int(vertex_counts[i]),
            crosses_antimeridian=bool(crossing[i])))
        if area < MIN_BILLABLE_KM2:
            warnings.append(warning(W_BELOW_MINIMUM_AREA,
                                    f"{label} is {area:.4f} km², billed as the minimum "
                                    f"{MIN_BILLABLE_KM2} km².", part=i + 1, area_km2=area))
    total_billable = sum(r.billable_km2 for r in reports)
    if total_billable > limits.max_total_area_km2:
        raise AoiError(AREA_TOO_LARGE, f"The AOI's total billable area is {total_billable:,.2f} "
                                       f"km², over the limit of {limits.max_total_area_km2:,.0f} "
                                       f"km² per order item (max_total_area_km2); split it into "
                                       f"several items.",
                       where={"limit": "max_total_area_km2", "value": limits.max_total_area_km2,
                              "actual": total_billable})

    # 9. overlaps would be billed twice: warn (dissolve=true merges them)
    if len(out) > 1 and not dissolve:
        w = _overlap_warning(out)
        if w:
            warnings.append(w)

    all_b = shapely.bounds(shapely.GeometryCollection(list(out)))
    totals = Totals(parts=len(reports), area_km2=sum(r.area_km2 for r in reports),
                    billable_km2=total_billable, vertex_count=int(sum(r.vertex_count
                                                                        for r in reports)),
                    bbox=[float(v) for v in all_b])
    return ImportedAoi(geometry=shapely.GeometryCollection(list(out)), parts=tuple(reports),
                       totals=totals, warnings=tuple(warnings), source_format=decoded.format)


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    polys = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == _POLYGON
             and not p.is_empty]
    if shapely.get_type_id(geom) == _COLLECTION:
        polys = [q for g in shapely.get_parts(geom) for q in shapely.get_parts(g)
                 if shapely.get_type_id(q) == _POLYGON and not q.is_empty]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _out_of_range(parts: np.ndarray, coords: np.ndarray, cidx: np.ndarray,
                  projected_input: bool) -> AoiError:
    bad = (np.abs(coords[:, 0]) > 180.0) | (np.abs(coords[:, 1]) > 90.0)
    k = int(np.argmax(bad))
    i = int(cidx[k])
    x, y = (float(v) for v in coords[k])
    biggest = float(np.abs(coords).max())
    if biggest > 360.0 and not projected_input:
        hint = ("these look like projected metres (e.g. UTM) without a declared CRS: include the "
                ".prj file, use EWKT with SRID=<epsg>;..., or convert to longitude/latitude")
    elif abs(x) <= 90.0 and abs(y) <= 180.0:
        hint = ("latitude and longitude look swapped: positions must be longitude first, then "
                "latitude")
    else:
        hint = "longitude must lie within -180..180 and latitude within -90..90"
    return AoiError(COORDINATES_OUT_OF_RANGE,
                    f"{_label(parts, i)}: coordinate {x:.4f} {y:.4f} is outside longitude ±180 / "
                    f"latitude ±90; {hint}.",
                    where={"part": i + 1, "coordinate": [x, y]})


def _overlap_warning(geoms: np.ndarray) -> dict[str, Any] | None:
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if not len(left):
        return None
    inter = shapely.intersection(geoms[left], geoms[right])
    pairs: list[dict[str, Any]] = []
    total = 0.0
    for a, b, g in zip(left, right, inter, strict=True):
        poly = _polygonal(g) if not g.is_empty else None
        if poly is None:
            continue
        km2 = measure.geodesic_area_m2(poly) / 1e6
        if km2 <= 1e-9:
            continue
        pairs.append({"parts": [int(a) + 1, int(b) + 1], "area_km2": km2})
        total += km2
    if not pairs:
        return None
    named = ", ".join(f"{p['parts'][0]} and {p['parts'][1]} ({p['area_km2']:.4f} km²)"
                      for p in pairs[:5])
    more = f" and {len(pairs) - 5} more pair(s)" if len(pairs) > 5 else ""
    return warning(W_OVERLAP, f"Parts overlap: {named}{more}; {total:.4f} km² would be billed "
                              f"twice. Pass dissolve=true to merge overlapping parts.",
                   overlap_km2=total, pairs=pairs)
