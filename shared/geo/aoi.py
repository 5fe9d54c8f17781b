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
    CRS_UNKNOWN,
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
    W_DROPPED_FAILING,
    W_DROPPED_NON_POLYGON,
    W_LAYER_SKIPPED,
    W_OVERLAP,
    W_REPAIRED,
    W_SNAPPED,
    W_WRAPPED,
    AoiError,
    warning,
)
from .normalize import (
    SNAP_DEGREES,
    close_round_pole,
    crossing_mask,
    fold_longitudes,
    orient,
    snap_limits,
    split_antimeridian,
    to_wgs84,
    unwrap,
    wrap_bounds,
)
from .readers import Decoded, Layer, Limits, read_aoi
from .rules import (
    MAX_LATITUDE,
    MIN_BILLABLE_KM2,
    MIN_FILL_RATIO,
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
    encloses_pole: str | None = None  # "north" | "south": the ring runs round that pole
    # the part's number in the input, when dropping failing parts renumbered the rest
    source_index: int | None = None


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
    # parts left out by drop_failing=true, each with its facts and violations
    dropped: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    hints: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def to_geojson(self) -> dict[str, Any]:
        """The geometry as a GeoJSON GeometryCollection (plain lists, JSON-ready)."""
        doc: dict[str, Any] = _lists(mapping(self.geometry))
        return doc

    def report(self) -> dict[str, Any]:
        """The report as a JSON-ready dict: ``{source_format, parts, totals, warnings,
        violations, dropped, hints}``; each part carries its (here empty) ``violations``, the
        same shape a refusal's report has."""
        return {
            "source_format": self.source_format,
            "parts": [{**asdict(p), "violations": []} for p in self.parts],
            "totals": asdict(self.totals),
            "warnings": [dict(w) for w in self.warnings],
            "violations": [],
            "dropped": [dict(d) for d in self.dropped],
            "hints": [dict(h) for h in self.hints],
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
               drop_failing: bool = False, limits: Limits = Limits()) -> ImportedAoi:
    """Decode (format detected from the content), normalise and validate an AOI.

    ``data`` is an uploaded file's bytes or pasted text. ``repair`` applies make-valid to
    invalid parts (reporting the area change); ``dissolve`` merges overlapping parts;
    ``drop_failing`` keeps the parts that pass every rule and lists the others as dropped.
    Raises :class:`~shared.geo.errors.AoiError` for every refusal, and nothing else for bad
    input; its ``report`` lists every part and every violation.
    """
    try:
        return _import(data, filename=filename, content_type=content_type, repair=repair,
                       dissolve=dissolve, drop_failing=drop_failing, limits=limits)
    except AoiError as err:
        if err.report is None:  # refused before any part was read: the report is that refusal
            err.report = _empty_report(err)
        raise


def _empty_report(err: AoiError) -> dict[str, Any]:
    return {"source_format": None, "parts": [], "totals": None, "warnings": [],
            "violations": [err.violation()], "dropped": [], "hints": [], "options": []}


def _import(data: bytes | str, *, filename: str | None, content_type: str | None, repair: bool,
            dissolve: bool, drop_failing: bool, limits: Limits) -> ImportedAoi:
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
        return _process(decoded, repair=repair, dissolve=dissolve, drop_failing=drop_failing,
                        limits=limits)
    except AoiError:
        raise
    except (MemoryError, RecursionError) as exc:
        raise AoiError(UNREADABLE, f"The input is too complex to read ({type(exc).__name__}); "
                                   f"simplify it.") from None
    except Exception as exc:  # never let a parser/GEOS/GDAL error become a 5xx
        raise AoiError(UNREADABLE, f"The input could not be read ({type(exc).__name__}: "
                                   f"{str(exc)[:160]}).") from None


def import_geometry(geometry: BaseGeometry, *, crs: str | None = None, repair: bool = False,
                    dissolve: bool = False, drop_failing: bool = False,
                    limits: Limits = Limits()) -> ImportedAoi:
    """Normalise and validate an already-decoded shapely geometry (in ``crs``, default WGS84
    lon/lat), e.g. an inline AOI another service parsed itself."""
    try:
        return _process(Decoded("geometry", [Layer([geometry], crs)]), repair=repair,
                        dissolve=dissolve, drop_failing=drop_failing, limits=limits)
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


def _flatten_layer(layer: Layer) -> tuple[np.ndarray, int, dict[int, AoiError]]:
    """``_flatten`` that keeps the reader's broken parts in their place (as empty parts)."""
    if not layer.broken:
        arr, dropped = _flatten(layer.geometries)
        return arr, dropped, {}
    out: list[BaseGeometry] = []
    broken: dict[int, AoiError] = {}
    dropped = start = 0
    for k in sorted(layer.broken):
        seg, d = _flatten(layer.geometries[start:k])
        dropped += d
        out.extend(seg)
        broken[len(out)] = layer.broken[k]
        out.append(layer.geometries[k])
        start = k + 1
    seg, d = _flatten(layer.geometries[start:])
    out.extend(seg)
    arr = np.empty(len(out), dtype=object)
    arr[:] = out
    return arr, dropped + d, broken


def _label(parts: np.ndarray, i: int) -> str:
    return ("MultiPolygon" if shapely.get_type_id(parts[i]) == _MULTIPOLYGON else "Polygon") + \
        f" {i + 1}"


# The order in which the first violation was found when the import stopped at it; the
# refusal's code is still the earliest of these, so clients matching on it see no change.
_STAGE = {"reader": 0, "non_finite": 1, "range": 2, "latitude": 3, "validity": 4, "bbox": 5,
          "fill": 6, "area": 7}
_POLE_NAME = {1: "north", -1: "south"}


@dataclass
class _Checked:
    """Every part after the rules: facts (None where a part cannot be measured) and its
    violations as (stage, AoiError)."""

    parts: np.ndarray  # unwrapped, oriented
    out: np.ndarray  # stored form (split at ±180)
    crossing: np.ndarray
    pole: np.ndarray
    facts: list[dict[str, Any] | None]
    violations: list[list[tuple[int, AoiError]]]
    repaired: list[dict[str, Any]]

    def failing(self) -> np.ndarray:
        return np.array([bool(v) for v in self.violations], dtype=bool)


def _process(decoded: Decoded, *, repair: bool, dissolve: bool, drop_failing: bool,
             limits: Limits) -> ImportedAoi:
    warnings: list[dict[str, Any]] = list(decoded.warnings)

    # 1. polygonal parts, per layer, then limits that need no geometry work
    flat: list[tuple[np.ndarray, str | None, dict[int, AoiError], str]] = []
    dropped = 0
    for layer in decoded.layers:
        arr, d, b = _flatten_layer(layer)
        dropped += d
        if len(arr):
            flat.append((arr, layer.crs, b, layer.name))
    n_parts = sum(len(a) for a, _, _, _ in flat)
    skipped = list(decoded.skipped)
    if n_parts == 0:
        raise _nothing_polygonal(dropped, skipped)
    if dropped:
        warnings.append(warning(W_DROPPED_NON_POLYGON,
                                f"{dropped} point or line feature(s) were dropped; only polygons "
                                f"are kept.", count=dropped))
    if n_parts > limits.max_parts:
        raise AoiError(TOO_MANY_PARTS, f"The AOI has {n_parts:,} parts, over the limit of "
                                       f"{limits.max_parts:,} (max_parts); merge parts or split "
                                       f"the upload into several AOIs.",
                       where={"limit": "max_parts", "value": limits.max_parts, "actual": n_parts})
    n_vertices = int(sum(shapely.get_num_coordinates(a).sum() for a, _, _, _ in flat))
    if n_vertices > limits.max_vertices:
        raise AoiError(TOO_MANY_VERTICES, f"The AOI has {n_vertices:,} vertices, over the limit of "
                                          f"{limits.max_vertices:,} (max_vertices); simplify the "
                                          f"geometry.",
                       where={"limit": "max_vertices", "value": limits.max_vertices,
                              "actual": n_vertices})

    # 2. to WGS84 lon/lat, 2D; of several layers, one whose CRS cannot be placed on the globe is
    # skipped and named (alone, it is refused)
    layer_parts: list[np.ndarray] = []
    broken: dict[int, AoiError] = {}
    projected_input = False
    for arr, crs, b, name in flat:
        try:
            moved = to_wgs84(arr, crs)
        except AoiError as err:
            if err.code != CRS_UNKNOWN or len(flat) == 1:
                raise
            skipped.append({"layer": name.rsplit(":", 1)[-1] or name, "code": CRS_UNKNOWN,
                            "reason": f"layer {name!r}: {err.message}"})
            continue
        offset = sum(len(a) for a in layer_parts)
        broken.update({offset + k: e for k, e in b.items()})
        layer_parts.append(moved)
        projected_input = projected_input or bool(crs)
    if not layer_parts:
        raise _nothing_polygonal(0, skipped)
    for s in skipped:
        warnings.append(warning(W_LAYER_SKIPPED, f"Skipped: {s['reason']}.", layer=s["layer"],
                                reason=s["code"]))
    parts = np.concatenate(layer_parts)
    violations: list[list[tuple[int, AoiError]]] = [[] for _ in range(len(parts))]
    for i, refused in broken.items():
        refused.where.setdefault("part", i + 1)
        violations[i].append((_STAGE["reader"], refused))
    alive = np.ones(len(parts), dtype=bool)
    alive[list(broken)] = False

    # 3. coordinates: finite; float noise at ±180/±90 snapped; a web map's wrapped longitudes
    # folded back; anything else outside ±180 / ±90 refused (vectorised; details per bad part)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    finite = np.isfinite(coords).all(axis=1)
    if not finite.all():
        for i in np.unique(cidx[~finite]).tolist():
            if alive[i]:
                violations[i].append((_STAGE["non_finite"], AoiError(
                    INVALID_RING, f"{_label(parts, i)}: a coordinate is not a finite number "
                                  f"(NaN or infinity); fix or remove it.",
                    where={"part": i + 1, "reason": "non_finite"})))
                alive[i] = False
    live = np.flatnonzero(alive)
    in_range = bool(finite.all() and (np.abs(coords) <= [180.0, 90.0]).all())
    sub, snapped = (None, np.zeros(0, bool)) if in_range else snap_limits(parts[live])
    if snapped.any():
        parts[live] = sub
        warnings.append(warning(W_SNAPPED, f"{int(snapped.sum())} part(s) had coordinates a hair "
                                           f"(under {SNAP_DEGREES:g}°) past ±180° / ±90°, float "
                                           f"noise from a reprojection; they were moved onto the "
                                           f"limit.", parts=[int(i) + 1 for i in live[snapped]]))
    bounds = shapely.bounds(parts) if not in_range else np.zeros((len(parts), 4))
    out_lon = alive & ((bounds[:, 0] < -180.0) | (bounds[:, 2] > 180.0))
    out_lat = alive & ((bounds[:, 1] < -90.0) | (bounds[:, 3] > 90.0))
    if out_lon.any():
        parts, folded = fold_longitudes(parts, out_lon & ~out_lat)
        if folded.any():
            warnings.append(warning(
                W_WRAPPED, f"{int(folded.sum())} part(s) had longitudes beyond ±180°, as web maps "
                           f"that repeat the world draw them; they were moved by whole turns "
                           f"into -180 ... 180 (and split at the antimeridian where they cross "
                           f"it).", parts=[int(i) + 1 for i in np.flatnonzero(folded)]))
            out_lon &= ~folded
    bad = out_lon | out_lat
    if bad.any():
        coords, cidx = shapely.get_coordinates(parts, return_index=True)
        for i in np.flatnonzero(bad).tolist():
            violations[i].append((_STAGE["range"], _out_of_range(
                parts, i, coords[cidx == i], projected_input)))
        alive &= ~bad

    # 4. antimeridian: longitudes continuous for crossing parts; a ring that runs round a pole
    # is closed through it; a part reaching beyond 180 after folding crosses too
    live = np.flatnonzero(alive)
    pole = np.zeros(len(parts), dtype=np.int8)
    crossing = np.zeros(len(parts), dtype=bool)
    live_b = shapely.bounds(parts[live]) if len(live) else np.empty((0, 4))
    jumps = crossing_mask(parts[live]) if len(live) else np.zeros(0, dtype=bool)
    # most AOIs lie well inside ±180: nothing to unwrap, close or split
    if len(live) and (jumps.any() or ((live_b[:, 0] <= -180.0) | (live_b[:, 2] >= 180.0)).any()):
        sub = parts[live]
        sub, pole_sub = close_round_pole(sub, jumps)
        rest = pole_sub == 0  # a ring closed through its pole is already in unwrapped form
        cross_sub = np.zeros(len(sub), dtype=bool)
        sub[rest], cross_sub[rest] = unwrap(sub[rest])
        b = shapely.bounds(sub)
        # a plate carrée box round the whole globe that reaches a pole encloses it
        round_globe = b[:, 2] - b[:, 0] >= 360.0 - SNAP_DEGREES
        pole_sub[round_globe & (b[:, 3] >= 90.0)] = 1
        pole_sub[round_globe & (b[:, 1] <= -90.0)] = -1
        parts[live] = sub
        pole[live] = pole_sub
        crossing[live] = cross_sub | (b[:, 2] > 180.0) | (b[:, 0] < -180.0)

    # 5. validity (explain only on the error path), optional repair
    measurable = alive.copy()
    repaired: list[dict[str, Any]] = []
    valid = np.ones(len(parts), dtype=bool)
    valid[live] = shapely.is_valid(parts[live]) if len(live) else valid[live]
    for i in np.flatnonzero(alive & ~valid).tolist():
        label = _label(parts, i)
        reason = invalid_ring_error(label, i + 1, shapely.is_valid_reason(parts[i]))
        if not repair:
            violations[i].append((_STAGE["validity"], reason))
            measurable[i] = False
            continue
        before = measure.geodesic_area_m2(parts[i]) / 1e6
        fixed = _polygonal(shapely.make_valid(parts[i], method="structure", keep_collapsed=False))
        if fixed is None:
            violations[i].append((_STAGE["validity"], AoiError(
                INVALID_RING, f"{label}: the ring collapses to nothing when repaired (it encloses "
                              f"no area); redraw it.",
                where={"part": i + 1, "reason": "collapsed"})))
            alive[i] = measurable[i] = False
            continue
        parts[i] = fixed
        after = measure.geodesic_area_m2(fixed) / 1e6
        repaired.append(warning(
            W_REPAIRED, f"{label} was invalid ({reason.message.split(': ', 1)[1].split(';')[0]}"
                        f") and was repaired; its area changed from {before:.4f} to "
                        f"{after:.4f} km².",
            part=i + 1, reason=reason.where.get("reason"), area_before_km2=before,
            area_after_km2=after))

    # 6. the per-part rules on every part that can be measured
    checked = _check(parts, alive, measurable, crossing, pole, violations, repaired)
    total = sum(f["billable_km2"] for f in checked.facts if f and f["billable_km2"] is not None)
    failing = checked.failing()
    area_err = _area_error(total, limits)
    if failing.any() or area_err is not None:
        if not drop_failing or failing.all() or (area_err is not None and not failing.any()):
            raise _refusal(decoded.format, checked, warnings, area_err, drop_failing)
    source_index: list[int | None] = [None] * len(parts)
    dropped_parts: list[dict[str, Any]] = []
    if failing.any():
        keep = np.flatnonzero(~failing)
        dropped_parts = [_part_dict(checked, int(i)) for i in np.flatnonzero(failing)]
        warnings.append(warning(
            W_DROPPED_FAILING, f"drop_failing=true: {len(dropped_parts)} part(s) that break a rule "
                               f"were left out ({_numbers([d['index'] for d in dropped_parts])}); "
                               f"the report lists them under 'dropped' with their violations.",
            parts=[d["index"] for d in dropped_parts]))
        source_index = [int(i) + 1 for i in keep]
        checked = _check(checked.parts[keep], np.ones(len(keep), bool), np.ones(len(keep), bool),
                         checked.crossing[keep], checked.pole[keep],
                         [[] for _ in keep], [w for w in checked.repaired
                                              if int(w["part"]) - 1 in set(keep.tolist())])

    # 7. optional dissolve of overlapping parts (of the parts that pass), checked again
    if dissolve and len(checked.parts) > 1:
        merged = shapely.union_all(checked.parts)
        pieces = [p for p in shapely.get_parts(merged) if shapely.get_type_id(p) == _POLYGON]
        if len(pieces) != len(checked.parts):
            warnings.append(warning(W_DISSOLVED, f"Dissolve merged {len(checked.parts)} parts "
                                                 f"into {len(pieces)}.",
                                    before=len(checked.parts), after=len(pieces)))
            source_index = [None] * len(pieces)
        new = np.empty(len(pieces), dtype=object)
        new[:] = pieces
        b = shapely.bounds(new)
        checked = _check(new, np.ones(len(new), bool), np.ones(len(new), bool),
                         (b[:, 0] < -180.0) | (b[:, 2] > 180.0), np.zeros(len(new), np.int8),
                         [[] for _ in pieces], [])
    total = sum(f["billable_km2"] for f in checked.facts if f)
    area_err = _area_error(total, limits)
    if checked.failing().any() or area_err is not None:
        raise _refusal(decoded.format, checked, warnings, area_err, drop_failing)
    warnings.extend(checked.repaired)

    # 8. warnings and hints on the parts kept; overlaps would be billed twice
    out = checked.out
    if checked.crossing.any():
        warnings.append(warning(W_ANTIMERIDIAN_SPLIT,
                                f"{int(checked.crossing.sum())} part(s) cross the antimeridian "
                                f"and were split at ±180°.",
                                parts=[int(i) + 1 for i in np.flatnonzero(checked.crossing)]))
    reports = []
    for i, f in enumerate(checked.facts):
        assert f is not None
        reports.append(PartReport(**{k: v for k, v in f.items() if k != "violations"},
                                  source_index=source_index[i] if len(source_index) > i else None))
        if f["area_km2"] < MIN_BILLABLE_KM2:
            warnings.append(warning(W_BELOW_MINIMUM_AREA,
                                    f"{_label(checked.parts, i)} is {f['area_km2']:.4f} km², billed "
                                    f"as the minimum {MIN_BILLABLE_KM2} km².", part=i + 1,
                                    area_km2=f["area_km2"]))
    if len(out) > 1 and not dissolve:
        w = _overlap_warning(out)
        if w:
            warnings.append(w)
    all_b = shapely.bounds(shapely.GeometryCollection(list(out)))
    totals = Totals(parts=len(reports), area_km2=sum(r.area_km2 for r in reports),
                    billable_km2=total, vertex_count=int(sum(r.vertex_count for r in reports)),
                    bbox=[float(v) for v in all_b])
    return ImportedAoi(geometry=shapely.GeometryCollection(list(out)), parts=tuple(reports),
                       totals=totals, warnings=tuple(warnings), source_format=decoded.format,
                       dropped=tuple(dropped_parts), hints=tuple(_hints(checked)))


def _nothing_polygonal(dropped: int, skipped: list[dict[str, Any]]) -> AoiError:
    if skipped:
        named = "; ".join(s["reason"] for s in skipped[:5])
        code = UNREADABLE if all(s["code"] == UNREADABLE for s in skipped) else NO_POLYGON
        return AoiError(code, f"No polygon is left to import: {named}"
                              + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
                              + ". An AOI needs at least one polygon layer.",
                        where={"skipped_layers": [{"layer": s["layer"], "reason": s["code"]}
                                                  for s in skipped]})
    if dropped:
        return AoiError(NO_POLYGON, f"The input holds {dropped} point or line feature(s) but no "
                                    f"polygon; an AOI must be a Polygon or MultiPolygon.",
                        where={"dropped": dropped})
    return AoiError(EMPTY_INPUT, "The input holds no geometry; send at least one polygon.")


def _area_error(total_billable: float, limits: Limits) -> AoiError | None:
    if total_billable <= limits.max_total_area_km2:
        return None
    return AoiError(AREA_TOO_LARGE, f"The AOI's total billable area is {total_billable:,.2f} "
                                    f"km², over the limit of {limits.max_total_area_km2:,.0f} "
                                    f"km² per order item (max_total_area_km2); split it into "
                                    f"several items.",
                    where={"limit": "max_total_area_km2", "value": limits.max_total_area_km2,
                           "actual": total_billable})


def _check(parts: np.ndarray, alive: np.ndarray, measurable: np.ndarray, crossing: np.ndarray,
           pole: np.ndarray, violations: list[list[tuple[int, AoiError]]],
           repaired: list[dict[str, Any]]) -> _Checked:
    """Latitude range, bounding-box sides, fill ratio and the facts of every part that can be
    measured; a part that broke an earlier rule is checked as far as it can be."""
    parts = parts.copy()
    live = np.flatnonzero(alive)
    if len(live):
        parts[live] = orient(parts[live])
    out = parts.copy()
    for i in np.flatnonzero(crossing & measurable).tolist():
        out[i] = split_antimeridian(parts[i])
    bounds = shapely.bounds(parts)
    vertex_counts = shapely.get_num_coordinates(out)
    facts: list[dict[str, Any] | None] = [None] * len(parts)
    for i in range(len(parts)):
        label = _label(parts, i)
        if not alive[i]:
            facts[i] = _bare_facts(parts, i, int(vertex_counts[i]))
            continue
        west, south, east, north = (float(v) for v in bounds[i])
        b = (west, south, east, north)
        if south < MIN_LATITUDE or north > MAX_LATITUDE:
            violations[i].append((_STAGE["latitude"], _latitude_error(parts, i, label,
                                                                      int(pole[i]))))
        width, height = measure.bbox_sides_m(b)
        # a bbox side at a pole is a point: round a pole only latitude and area can apply
        err = check_bbox_sides(label, i + 1, width, height) if not pole[i] else None
        if err is not None:
            violations[i].append((_STAGE["bbox"], err))
        area: float | None = None
        fill: float | None = None
        if measurable[i]:
            area = measure.geodesic_area_m2(out[i]) / 1e6
            bbox_km2 = measure.bbox_area_m2(b) / 1e6
            fill = area / bbox_km2 if bbox_km2 > 0 else 0.0
            err = check_fill(label, i + 1, area, bbox_km2)
            if err is not None:
                violations[i].append((_STAGE["fill"], err))
        facts[i] = {
            "index": i + 1, "kind": label.split()[0], "area_km2": area,
            "billable_km2": billable_km2(area) if area is not None else None,
            "bbox": wrap_bounds(b), "bbox_width_m": width, "bbox_height_m": height,
            "fill_ratio": fill, "vertex_count": int(vertex_counts[i]),
            "crosses_antimeridian": bool(crossing[i]), "encloses_pole": _POLE_NAME.get(int(pole[i]))}
    return _Checked(parts, out, crossing, pole, facts, violations, repaired)


def _bare_facts(parts: np.ndarray, i: int, vertices: int) -> dict[str, Any]:
    """What can be said of a part that could not be read or placed on the globe."""
    b = shapely.bounds(parts[i])
    finite = bool(np.isfinite(b).all())
    return {"index": i + 1, "kind": _label(parts, i).split()[0], "area_km2": None,
            "billable_km2": None, "bbox": [float(v) for v in b] if finite else None,
            "bbox_width_m": None, "bbox_height_m": None, "fill_ratio": None,
            "vertex_count": vertices, "crosses_antimeridian": False, "encloses_pole": None}


def _latitude_error(parts: np.ndarray, i: int, label: str, pole: int) -> AoiError:
    sel = shapely.get_coordinates(parts[i])
    k = int(np.argmax((sel[:, 1] < MIN_LATITUDE) | (sel[:, 1] > MAX_LATITUDE)))
    x, y = (float(v) for v in sel[k])
    x = ((x + 180.0) % 360.0) - 180.0 if abs(x) > 180.0 else x
    limits = f"{MIN_LATITUDE:g}..{MAX_LATITUDE:g}° (the UTM range the imagery grid covers)"
    if pole:
        ring = sel[:, 1][np.abs(sel[:, 1]) < 90.0]
        where = ring.min() if pole > 0 else ring.max()
        return AoiError(LATITUDE_OUT_OF_RANGE,
                        f"{label} runs all the way round the {_POLE_NAME[pole].title()} Pole "
                        f"(from {abs(where):.4f}° {'N' if pole > 0 else 'S'}), so it encloses the "
                        f"pole and reaches {'90° N' if pole > 0 else '90° S'}, outside {limits}; "
                        f"draw the area south of {MAX_LATITUDE:g}° N and north of "
                        f"{abs(MIN_LATITUDE):g}° S.",
                        where={"part": i + 1, "encloses_pole": _POLE_NAME[pole],
                               "coordinate": [x, y], "limit": [MIN_LATITUDE, MAX_LATITUDE]})
    return AoiError(LATITUDE_OUT_OF_RANGE,
                    f"{label}: latitude {y:.4f} at {x:.4f} {y:.4f} is outside {limits}; remove "
                    f"the polar area.",
                    where={"part": i + 1, "coordinate": [x, y],
                           "limit": [MIN_LATITUDE, MAX_LATITUDE]})


def _part_dict(checked: _Checked, i: int) -> dict[str, Any]:
    facts = dict(checked.facts[i] or {"index": i + 1})
    facts["violations"] = [err.violation() for _, err in sorted(checked.violations[i],
                                                                  key=lambda v: v[0])]
    return facts


def _numbers(ns: list[int]) -> str:
    shown = ", ".join(str(n) for n in ns[:10])
    return f"parts {shown}" + (f" and {len(ns) - 10} more" if len(ns) > 10 else "")


def _refusal(fmt: str, checked: _Checked, warnings: list[dict[str, Any]],
             area_err: AoiError | None, drop_failing: bool) -> AoiError:
    """One refusal carrying the whole report: the first violation found (in the order the rules
    run) is its code and message; every part lists its own."""
    found = [(stage, i, err) for i, vs in enumerate(checked.violations) for stage, err in vs]
    if area_err is not None:
        found.append((_STAGE["area"], len(checked.violations), area_err))
    stage, _, first = min(found, key=lambda t: (t[0], t[1]))
    failing = [i + 1 for i, vs in enumerate(checked.violations) if vs]
    passing = [i + 1 for i, vs in enumerate(checked.violations) if not vs]
    options: list[dict[str, Any]] = []
    if failing and passing and not drop_failing:
        options.append({"option": "drop_failing", "message": f"drop_failing=true imports the "
                        f"{len(passing)} part(s) that pass and leaves out {_numbers(failing)}.",
                        "keeps": passing, "drops": failing})
    if any(err.code == INVALID_RING and err.where.get("reason") not in
           ("non_finite", "not_closed", "too_few_points", "malformed", "collapsed")
           for _, _, err in found):
        options.append({"option": "repair", "message": "repair=true makes invalid rings valid "
                        "and reports how each part's area changed."})
    if area_err is not None:
        options.append({"option": None, "message": "Split the area into several order items."})
    measured = [f for f in checked.facts if f and f["area_km2"] is not None]
    report = {
        "source_format": fmt,
        "parts": [_part_dict(checked, i) for i in range(len(checked.parts))],
        "totals": {"parts": len(checked.parts),
                   "area_km2": sum(f["area_km2"] for f in measured),
                   "billable_km2": sum(f["billable_km2"] for f in measured),
                   "vertex_count": sum(f["vertex_count"] for f in checked.facts if f)},
        "warnings": [dict(w) for w in warnings],
        "violations": [area_err.violation()] if area_err is not None else [],
        "dropped": [],
        "hints": _hints(checked),
        "options": options,
    }
    n = len(found)
    more = (f" ({n - 1} more problem(s) in {len(failing)} part(s) are listed in the report)"
            if n > 1 else "")
    return AoiError(first.code, first.message + more, where=first.where, status=first.status,
                    report=report)


def _hints(checked: _Checked) -> list[dict[str, Any]]:
    """Parts under the 0.5 km² floor are each billed 0.5 km²; one MultiPolygon of them is billed
    on their combined area (docs/domain.md, AOI rules), when it passes the rules as one unit."""
    small = [i for i, f in enumerate(checked.facts)
             if f and not checked.violations[i] and f["area_km2"] is not None
             and f["area_km2"] < MIN_BILLABLE_KM2 and not checked.crossing[i]]
    if len(small) < 2:
        return []
    area = sum(checked.facts[i]["area_km2"] for i in small)  # type: ignore[index]
    now = MIN_BILLABLE_KM2 * len(small)
    grouped = billable_km2(area)
    west, south = (min(float(shapely.bounds(checked.parts[i])[k]) for i in small) for k in (0, 1))
    east, north = (max(float(shapely.bounds(checked.parts[i])[k]) for i in small) for k in (2, 3))
    width, height = measure.bbox_sides_m((west, south, east, north))
    bbox_km2 = measure.bbox_area_m2((west, south, east, north)) / 1e6
    fill = area / bbox_km2 if bbox_km2 > 0 else 0.0
    passes = (check_bbox_sides("", 0, width, height) is None
              and check_fill("", 0, area, bbox_km2) is None)
    numbers = [i + 1 for i in small]
    text = (f"{_numbers(numbers).capitalize()} are each under {MIN_BILLABLE_KM2} km² and billed "
            f"{MIN_BILLABLE_KM2} km² apiece ({now:.2f} km² together); as one MultiPolygon they "
            f"would be billed on their combined area, {grouped:.4f} km².")
    if not passes:
        text += (f" Grouped, though, they would cover only {fill * 100:.2f} % of their common "
                 f"bounding box, under the {MIN_FILL_RATIO * 100:.0f} % a part needs: group "
                 f"only parts that lie close together.")
    return [{"code": "group_small_parts", "message": text, "parts": numbers,
             "billable_km2_now": now, "billable_km2_grouped": grouped,
             "grouped_passes_rules": passes}]


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    polys = [p for p in shapely.get_parts(geom) if shapely.get_type_id(p) == _POLYGON
             and not p.is_empty]
    if shapely.get_type_id(geom) == _COLLECTION:
        polys = [q for g in shapely.get_parts(geom) for q in shapely.get_parts(g)
                 if shapely.get_type_id(q) == _POLYGON and not q.is_empty]
    if not polys:
        return None
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _out_of_range(parts: np.ndarray, i: int, coords: np.ndarray, projected_input: bool) -> AoiError:
    bad = (np.abs(coords[:, 0]) > 180.0) | (np.abs(coords[:, 1]) > 90.0)
    k = int(np.argmax(bad))
    x, y = (float(v) for v in coords[k])
    biggest = float(np.abs(coords).max())
    if biggest > 540.0 and not projected_input:
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
