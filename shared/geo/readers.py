"""Decode AOI uploads and pasted text into shapely geometries plus their declared CRS.

The format is detected from the content (magic bytes, first non-blank character, XML root
element); the file name and content type only break ties (e.g. a ``.txt`` holding WKT).
Readers do not validate rings beyond what is needed to build a geometry: unclosed rings,
rings with too few positions and non-numeric coordinates are refused here with the part and
coordinate; everything else is left to :mod:`shared.geo.rules`.

Security: XML (KML, GML) is parsed with ``defusedxml`` and any DOCTYPE/ENTITY is refused before
GDAL sees the document; archives are checked against the uncompressed-size and ratio limits
and extracted with bounded reads under sanitised names; a member named with ``..`` or an
absolute path is refused (no zip-slip, and no guessing what such an archive meant). Archives
nested in archives (a zipped shapefile inside a .zip, a KMZ inside a .zip) are read, up to
``max_archive_depth`` levels, all drawing on one ``max_uncompressed_bytes`` budget for the
whole upload, so nesting cannot multiply the allowance. GDAL only ever sees
formats on an allow-list (GeoPackage, SpatiaLite, CSV, FlatGeobuf, GML, shapefile, MapInfo,
FileGDB), never arbitrary bytes (a VRT could otherwise make it read local files); an SQLite
database is opened by GDAL only after its schema was read with ``sqlite3`` and holds no virtual
table whose module could reach outside the file (SpatiaLite's VirtualShape, VirtualText, ...).

Curved geometries (WKT ``CURVEPOLYGON``/``MULTISURFACE``/``COMPOUNDCURVE``, curve layers of
GeoPackage and GML) are linearised by GDAL with at most :data:`ARC_STEP_DEGREES` of arc per chord,
and the import says so in a warning.

A part the reader cannot build (an unclosed GeoJSON ring, a malformed feature) does not stop the
reading: it is kept as an empty placeholder in :attr:`Layer.broken` so the report can list it
next to every other part. A layer of a multi-layer file that cannot be read, or holds no
polygons, is skipped and named in :attr:`Decoded.skipped`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import sqlite3
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET
import numpy as np
import shapely
from defusedxml import DefusedXmlException
from shapely.geometry.base import BaseGeometry

from .errors import (
    ARCHIVE_TOO_LARGE,
    EMPTY_INPUT,
    INCOMPLETE_SHAPEFILE,
    INVALID_RING,
    NO_POLYGON,
    UNKNOWN_FORMAT,
    UNREADABLE,
    UNSAFE_ARCHIVE_PATH,
    W_CLOSED_RING,
    W_LINEARISED,
    W_MISSING_PRJ,
    XML_EXTERNAL_ENTITY,
    AoiError,
    warning,
)

# Format names reported as ``source_format``.
GEOJSON = "geojson"
JSON_WRAPPER = "json"
WKT = "wkt"
EWKT = "ewkt"
TXT = "txt"
KML = "kml"
KMZ = "kmz"
SHAPEFILE_ZIP = "shapefile_zip"
ZIP = "zip"
GPKG = "gpkg"
SPATIALITE = "spatialite"
CSV = "csv"
FLATGEOBUF = "flatgeobuf"
GML = "gml"

_WKT_TYPES = ("POLYGON", "MULTIPOLYGON", "POINT", "MULTIPOINT", "LINESTRING", "MULTILINESTRING",
              "GEOMETRYCOLLECTION", "LINEARRING", "TRIANGLE", "TIN", "POLYHEDRALSURFACE",
              "CIRCULARSTRING", "COMPOUNDCURVE", "CURVEPOLYGON", "MULTICURVE", "MULTISURFACE")
_WKT_START = re.compile(
    r"^\s*(?:SRID\s*=\s*(?P<srid>-?\d+)\s*;\s*)?(?P<type>[A-Za-z]+)\s*(?:Z|M|ZM)?\s*(?:\(|EMPTY\b)",
    re.IGNORECASE)
_GEOJSON_GEOMETRY_TYPES = {"point", "multipoint", "linestring", "multilinestring", "polygon",
                           "multipolygon", "geometrycollection"}
# Members of an archive we read; anything else (styles, images, metadata) is ignored.
_GDAL_EXTS = {".shp", ".gpkg", ".fgb", ".gml", ".tab", ".mif"}
# read through read_aoi, which tells them apart by content (CSV text, SQLite magic)
_SELF_EXTS = {".csv", ".sqlite", ".sqlite3", ".db", ".spatialite"}
_TEXT_EXTS = {".geojson", ".json", ".wkt", ".txt", ".kml"} | _SELF_EXTS
_ARCHIVE_EXTS = {".zip", ".kmz"}
_SIDECAR_EXTS = {".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xsd", ".gfs",
                 ".dat", ".id", ".map", ".ind"}


@dataclass(frozen=True)
class Limits:
    """Import limits (defaults; services override them from their settings)."""

    max_upload_bytes: int = 20 * 1024 * 1024
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_compression_ratio: float = 100.0  # per member, for members above 1 MiB uncompressed
    max_archive_depth: int = 3  # the upload, an archive in it, and one in that
    max_parts: int = 1000
    max_vertices: int = 1_000_000
    max_total_area_km2: float = 1_000_000.0


# Arcs become chords spanning at most this many degrees of arc, so a chord strays from its arc by
# at most r * (1 - cos(0.5°)), about 0.004 % of the arc's radius r (4 cm for a 1 km radius).
ARC_STEP_DEGREES = 1.0
_ARC_SAGITTA = 1.0 - math.cos(math.radians(ARC_STEP_DEGREES / 2))


def linearised_warning(what: str) -> dict[str, Any]:
    return warning(W_LINEARISED,
                   f"{what} curved geometry (circular arcs); it was linearised with a chord at "
                   f"most every {ARC_STEP_DEGREES:g}° of arc, within {_ARC_SAGITTA * 100:.4f} % "
                   f"of each arc's radius of the true curve.",
                   arc_step_degrees=ARC_STEP_DEGREES, max_deviation_of_radius=_ARC_SAGITTA)


@dataclass
class Layer:
    """Geometries read from one source layer, in the CRS the source declares (None = WGS84).

    ``broken`` maps a position in ``geometries`` (holding an empty placeholder) to the refusal of
    a part the reader could not build."""

    geometries: list[BaseGeometry]
    crs: str | None = None
    name: str = ""
    broken: dict[int, AoiError] = field(default_factory=dict)


class _Budget:
    """What is left of ``max_uncompressed_bytes`` for one upload, shared by every archive
    nested in it."""

    def __init__(self, limits: Limits) -> None:
        self.limit = limits.max_uncompressed_bytes
        self.left = limits.max_uncompressed_bytes

    def refuse(self, actual: int | None = None) -> AoiError:
        seen = f"to {actual:,} bytes" if actual is not None else "beyond that"
        return AoiError(ARCHIVE_TOO_LARGE,
                        f"The archive expands {seen}, over the limit of {self.limit:,} bytes "
                        f"(max_uncompressed_bytes, one budget for the upload and every archive "
                        f"nested in it); upload a smaller area or split the file.",
                        where={"limit": "max_uncompressed_bytes", "value": self.limit,
                               **({"actual": actual} if actual is not None else {})})


@dataclass
class Decoded:
    """What a reader found: its layers, the detected format and reader warnings."""

    format: str
    layers: list[Layer] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # layers left out: {"layer", "reason", "code"} (code: unreadable | no_polygon)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def absorb(self, other: Decoded) -> None:
        self.layers.extend(other.layers)
        self.warnings.extend(other.warnings)
        self.skipped.extend(other.skipped)


# ------------------------------------------------------------------------------------------
# entry point


def read_aoi(data: bytes | str, *, filename: str | None = None, content_type: str | None = None,
             limits: Limits = Limits(), _budget: _Budget | None = None, _depth: int = 0) -> Decoded:
    """Detect the format of ``data`` from its content and decode it.

    Raises :class:`AoiError` (``unknown_format``, ``unreadable``, ``empty_input``,
    ``invalid_ring``, ``xml_external_entity``, ``archive_too_large``, ...) on refusal.
    """
    ext = _ext(filename)
    if isinstance(data, str):
        return _read_text(data, ext, content_type)
    raw = bytes(data)
    if raw[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _read_zip(raw, limits, _budget or _Budget(limits), _depth + 1)
    if raw.startswith(b"SQLite format 3\x00"):
        return _read_sqlite(raw)
    if raw.startswith(b"fgb\x03"):
        return _read_gdal_bytes(raw, FLATGEOBUF, "FlatGeobuf", ext=".fgb")
    if raw[:4] == b"\x00\x00\x27\x0a":
        raise AoiError(INCOMPLETE_SHAPEFILE,
                       "This is a bare shapefile (.shp) without its .shx, .dbf and .prj files; "
                       "zip all files of the shapefile together and upload the .zip.")
    if raw[:2] == b"\x1f\x8b":
        raise AoiError(UNKNOWN_FORMAT, "Gzip files are not supported; upload a .zip, or the "
                                       "file itself.")
    return _read_text(_decode_text(raw), ext, content_type)


def _ext(filename: str | None) -> str:
    return os.path.splitext(filename or "")[1].lower()


def _decode_text(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    head = raw[:4096]
    # Binary garbage (control bytes) is not text in any encoding we accept.
    if sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 100 + 1:
        raise AoiError(UNKNOWN_FORMAT, _UNKNOWN_HINT)
    return raw.decode("latin-1")


_UNKNOWN_HINT = ("The content is not a format we can read. Upload GeoJSON, WKT/EWKT, KML/KMZ, "
                 "a zipped shapefile (all its files in one .zip), GeoPackage, SpatiaLite, a zipped "
                 "FileGDB, GML, FlatGeobuf or CSV with a WKT or GeoJSON column.")


def _read_text(text: str, ext: str, content_type: str | None) -> Decoded:
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.strip():
        raise AoiError(EMPTY_INPUT, "The input is empty; send a polygon as GeoJSON, WKT or a file.")
    first = stripped[0]
    if first in "{[":
        return _read_json(stripped)
    if first == "<":
        return _read_xml(stripped.encode("utf-8"))
    first_line = next((ln for ln in stripped.splitlines()
                       if ln.strip() and not ln.lstrip().startswith("#")), "")
    if _WKT_START.match(first_line):
        return _read_wkt_text(stripped)
    sniffed = _csv_header(first_line)
    if sniffed is not None:
        return _read_csv(stripped, *sniffed)
    raise AoiError(UNKNOWN_FORMAT, _UNKNOWN_HINT)


# ------------------------------------------------------------------------------------------
# ring building shared by the GeoJSON and KML readers


class _PartCounter:
    """Numbers polygonal parts in reading order, so errors can say "Polygon 3"."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def _ring_array(coords: Any, label: str) -> np.ndarray:
    try:
        arr = np.asarray(coords, dtype=float)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != 2 or arr.shape[1] < 2:
        # Mixed 2D/3D positions or junk: the slow path, only taken for odd input.
        try:
            arr = np.array([[float(p[0]), float(p[1])] for p in coords], dtype=float)
        except (TypeError, ValueError, IndexError, KeyError):
            raise AoiError(UNREADABLE, f"{label}: a ring holds something that is not a list of "
                                       f"[longitude, latitude] positions.",
                           where={"part_label": label}) from None
        if arr.ndim != 2:
            arr = arr.reshape(-1, 2)
    arr = arr[:, :2]
    return arr


def build_polygon(rings: list[Any], label: str, closed: list[str] | None = None) -> shapely.Polygon:
    """A polygon from coordinate rings (exterior first); refuse NaN/Inf, too few points and
    unclosed rings with the coordinate, instead of letting shapely silently close them.

    With ``closed`` (KML, whose tolerant readers close rings) an unclosed ring is closed by
    repeating its first position instead, and its name is appended to ``closed``."""
    arrays = [_ring_array(r, label) for r in rings]
    if not arrays:
        return shapely.Polygon()
    for i, arr in enumerate(arrays):
        which = "exterior ring" if i == 0 else f"hole {i}"
        if closed is not None and len(arr) >= 3 and np.isfinite(arr).all() \
                and not np.array_equal(arr[0], arr[-1]):
            arr = arrays[i] = np.vstack([arr, arr[:1]])
            closed.append(which)
        bad = ~np.isfinite(arr).all(axis=1)
        if bad.any():
            k = int(np.argmax(bad))
            raise AoiError(INVALID_RING, f"{label}: {which} has a non-finite coordinate (NaN or "
                                         f"infinity) at position {k + 1}; fix the coordinate.",
                           where={"part_label": label, "reason": "non_finite", "position": k + 1})
        if len(arr) < 4:
            # an empty ring has no coordinate to point at (and NaN cannot be written in JSON)
            near = {"coordinate": [float(arr[0][0]), float(arr[0][1])]} if len(arr) else {}
            raise AoiError(INVALID_RING, f"{label}: {which} has too few points ({len(arr)}; a "
                                         f"closed ring needs at least 4)"
                                         + (f" near {_fmt(*arr[0])}." if len(arr) else "."),
                           where={"part_label": label, "reason": "too_few_points", **near})
        if not np.array_equal(arr[0], arr[-1]):
            x, y = arr[0]
            raise AoiError(INVALID_RING, f"{label}: {which} is not closed: it starts at "
                                         f"{_fmt(x, y)} but ends at {_fmt(*arr[-1])}; repeat the "
                                         f"first position at the end.",
                           where={"part_label": label, "reason": "not_closed",
                                  "coordinate": [float(x), float(y)]})
    return shapely.Polygon(arrays[0], arrays[1:])


def _fmt(x: float, y: float) -> str:
    return f"{x:.4f} {y:.4f}"


# ------------------------------------------------------------------------------------------
# JSON: GeoJSON and wrappers


def _read_json(text: str) -> Decoded:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise AoiError(UNREADABLE, f"The JSON is malformed ({_short(exc)}); check the syntax.") \
            from None
    fmt, doc, crs = _unwrap_json(doc, depth=0)
    if fmt in (WKT, EWKT):
        decoded = _read_wkt_text(doc)
        decoded.format = JSON_WRAPPER
        return decoded
    counter = _PartCounter()
    layer = Layer([], crs or _geojson_crs(doc))
    _geojson_collect(doc, layer, counter, depth=0)
    return Decoded(fmt, [layer])


def _ci_get(d: dict[Any, Any], *names: str) -> Any:
    lowered = {str(k).lower(): v for k, v in d.items()}
    for n in names:
        if n in lowered:
            return lowered[n]
    return None


def _unwrap_json(doc: Any, depth: int) -> tuple[str, Any, str | None]:
    """Peel ``{"Wkt": ...}`` / ``{"GeoJson": ...}`` wrappers (keys case-insensitive)."""
    if depth > 4:
        raise AoiError(UNKNOWN_FORMAT, _UNKNOWN_HINT)
    if isinstance(doc, dict):
        if isinstance(doc.get("type"), str) and ("coordinates" in doc or "features" in doc
                                                 or "geometry" in doc or "geometries" in doc):
            return GEOJSON, doc, None
        wkt = _ci_get(doc, "wkt", "ewkt")
        if isinstance(wkt, str):
            return WKT, wkt, None
        gj = _ci_get(doc, "geojson", "geometry", "aoi")
        if isinstance(gj, str):
            try:
                gj = json.loads(gj)
            except ValueError:
                if _WKT_START.match(gj):
                    return WKT, gj, None
                raise AoiError(UNREADABLE, "The GeoJson field holds malformed JSON.") from None
        if gj is not None:
            fmt, inner, crs = _unwrap_json(gj, depth + 1)
            return (JSON_WRAPPER if fmt == GEOJSON else fmt), inner, crs
    if isinstance(doc, list):
        return GEOJSON, {"type": "GeometryCollection", "geometries": doc}, None
    raise AoiError(UNKNOWN_FORMAT, "The JSON is neither GeoJSON nor a wrapper with a 'wkt' or "
                                   "'geojson' field; send a GeoJSON Polygon, Feature or "
                                   "FeatureCollection.")


def _geojson_crs(doc: Any) -> str | None:
    """The pre-RFC 7946 ``crs`` member, honoured when present (RFC 7946 data has none)."""
    if not isinstance(doc, dict):
        return None
    crs = doc.get("crs")
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name")
        if isinstance(name, str) and name.strip():
            if "CRS84" in name.upper():
                return None
            return name.strip()
    return None


def _geojson_collect(obj: Any, out: Layer, counter: _PartCounter, depth: int) -> None:
    if depth > 32:
        raise AoiError(UNREADABLE, "The GeoJSON nests collections too deeply.")
    if obj is None:
        return
    if isinstance(obj, list):  # a bare list of features/geometries
        for item in obj:
            _geojson_collect(item, out, counter, depth + 1)
        return
    if not isinstance(obj, dict):
        raise AoiError(UNREADABLE, "The GeoJSON holds something that is not an object where a "
                                   "geometry or feature was expected.")
    typ = str(obj.get("type", "")).lower()
    if typ == "featurecollection":
        feats = obj.get("features")
        if not isinstance(feats, list):
            raise AoiError(UNREADABLE, "The FeatureCollection has no 'features' list.")
        for f in feats:
            _geojson_collect(f, out, counter, depth + 1)
    elif typ == "feature":
        _geojson_collect(obj.get("geometry"), out, counter, depth + 1)
    elif typ == "geometrycollection":
        geoms = obj.get("geometries")
        if not isinstance(geoms, list):
            raise AoiError(UNREADABLE, "The GeometryCollection has no 'geometries' list.")
        for g in geoms:
            _geojson_collect(g, out, counter, depth + 1)
    elif typ in _GEOJSON_GEOMETRY_TYPES:
        coords = obj.get("coordinates")
        if coords is None:
            raise AoiError(UNREADABLE, f"A GeoJSON {obj.get('type')} has no 'coordinates'.")
        try:
            out.geometries.append(_geojson_geometry(typ, coords, counter))
        except AoiError as err:
            if typ not in ("polygon", "multipolygon") or err.code not in (INVALID_RING, UNREADABLE):
                raise
            # one broken part: kept in place so the report lists it with every other part
            out.broken[len(out.geometries)] = err
            out.geometries.append(shapely.Polygon() if typ == "polygon" else shapely.MultiPolygon())
    else:
        raise AoiError(UNREADABLE, f"Unknown GeoJSON type {obj.get('type')!r}; expected a "
                                   f"geometry, Feature or FeatureCollection.")


def _geojson_geometry(typ: str, coords: Any, counter: _PartCounter) -> BaseGeometry:
    try:
        if typ == "polygon":
            n = counter.next()
            return build_polygon(coords, f"Polygon {n}")
        if typ == "multipolygon":
            n = counter.next()
            return shapely.MultiPolygon([build_polygon(p, f"MultiPolygon {n}") for p in coords])
        # Points and lines are only counted and dropped later; build them loosely.
        if typ == "point":
            return shapely.Point(_ring_array([coords], "Point")[0])
        if typ == "multipoint":
            return shapely.MultiPoint(_ring_array(coords, "MultiPoint")) if coords else \
                shapely.MultiPoint()
        if typ == "linestring":
            return shapely.LineString(_ring_array(coords, "LineString")) if coords else \
                shapely.LineString()
        if typ == "multilinestring":
            return shapely.MultiLineString([_ring_array(c, "LineString") for c in coords])
    except AoiError:
        raise
    except Exception as exc:  # shapely constructor refusals on odd shapes
        raise AoiError(UNREADABLE, f"A GeoJSON {typ} could not be built ({_short(exc)}).") \
            from None
    raise AoiError(UNREADABLE, f"Unknown GeoJSON type {typ!r}.")


# ------------------------------------------------------------------------------------------
# WKT, EWKT, TXT


def _read_wkt_text(text: str) -> Decoded:
    """One WKT (possibly over several lines) or several, one per line; each may carry
    ``SRID=nnnn;``. Lines starting with ``#`` are comments."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    chunks: list[list[str]] = []
    for ln in lines:
        if _WKT_START.match(ln) or not chunks:
            chunks.append([ln])
        else:
            chunks[-1].append(ln)
    layers: dict[str | None, Layer] = {}
    fmt = WKT if len(chunks) == 1 else TXT
    curved = False
    for i, chunk in enumerate(chunks, start=1):
        body = " ".join(chunk).strip().rstrip(";")
        m = _WKT_START.match(body)
        if not m:
            raise AoiError(UNKNOWN_FORMAT, f"Line {i} is not WKT: {body[:60]!r}. " + _UNKNOWN_HINT)
        crs = None
        if m.group("srid") is not None:
            fmt = EWKT
            srid = int(m.group("srid"))
            crs = None if srid == 4326 else f"EPSG:{srid}"
            body = body[body.index(";") + 1:]
        if m.group("type").upper() not in _WKT_TYPES:
            raise AoiError(UNKNOWN_FORMAT, f"Unknown WKT geometry type {m.group('type')!r}.")
        layer = layers.setdefault(crs, Layer([], crs))
        try:
            geom = _from_wkt(body, i if len(chunks) > 1 else None)
        except _Curved:
            geom, curved = _linearise_wkt(body, i if len(chunks) > 1 else None), True
        except AoiError as err:
            if err.code != INVALID_RING:
                raise
            layer.broken[len(layer.geometries)] = err
            geom = shapely.Polygon()
        layer.geometries.append(geom)
    decoded = Decoded(fmt, list(layers.values()))
    if curved:
        decoded.warnings.append(linearised_warning("The WKT holds"))
    return decoded


class _Curved(Exception):
    """WKT with circular arcs, which GEOS does not parse: GDAL linearises it."""


def _linearise_wkt(body: str, line: int | None) -> BaseGeometry:
    """Curved WKT through GDAL's CSV reader (OGR parses and linearises every curve type)."""
    text = 'WKT\n"' + body.replace('"', "") + '"\n'
    decoded = _read_gdal_bytes(text.encode(), CSV, "The WKT", ".csv", _CSV_OPTIONS | {
        "GEOM_POSSIBLE_NAMES": "WKT", "SEPARATOR": "COMMA"})
    geoms = [g for layer in decoded.layers for g in layer.geometries]
    if not geoms or any(layer.broken for layer in decoded.layers):
        where = f"Line {line}: " if line else "WKT: "
        raise AoiError(UNREADABLE, f"{where}the curved WKT could not be parsed; check brackets, "
                                   f"commas and that each position is 'lon lat'.",
                       where={"line": line} if line else {})
    return geoms[0]


def _from_wkt(body: str, line: int | None) -> BaseGeometry:
    try:
        return shapely.from_wkt(body)
    except Exception as exc:  # GEOSException
        msg = str(exc)
        if "nonlinear" in msg.lower() or "curve" in msg.lower():
            raise _Curved() from None
        where = f"Line {line}: " if line else "WKT: "
        low = msg.lower()
        if "closed" in low or "number of points" in low or "must be 0 or >=" in low:
            reason, coord = _wkt_ring_problem(body)
            raise AoiError(INVALID_RING, f"{where}{reason}" +
                           (f" at {_fmt(*coord)}" if coord else "") + ".",
                           where={"line": line, "reason": "not_closed" if "closed" in reason
                                  else "too_few_points",
                                  **({"coordinate": list(coord)} if coord else {})}) from None
        raise AoiError(UNREADABLE, f"{where}the WKT could not be parsed ({_short(exc)}); check "
                                   f"brackets, commas and that each position is 'lon lat'.") \
            from None


_WKT_RING = re.compile(r"\(([^()]*)\)")


def _wkt_ring_problem(body: str) -> tuple[str, tuple[float, float] | None]:
    """Error path only: find the first ring that is unclosed or too short."""
    for m in _WKT_RING.finditer(body):
        pts = [p.split() for p in m.group(1).split(",") if p.strip()]
        try:
            xy = [(float(p[0]), float(p[1])) for p in pts]
        except (ValueError, IndexError):
            continue
        if len(xy) < 4:
            return (f"a ring has too few points ({len(xy)}; a closed ring needs at least 4) "
                    f"starting", xy[0] if xy else None)
        if xy[0] != xy[-1]:
            return ("a ring is not closed (repeat the first position at the end); it starts",
                    xy[0])
    return "a ring is not closed or has too few points", None


# ------------------------------------------------------------------------------------------
# XML: KML (own parser) and GML (GDAL, after the defused check)


def _parse_xml(raw: bytes) -> Element:
    try:
        root: Element = DET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
        return root
    except DefusedXmlException:
        raise AoiError(XML_EXTERNAL_ENTITY, "The XML declares a DOCTYPE or entities, which we do "
                                            "not process for security reasons; remove the "
                                            "<!DOCTYPE ...> / <!ENTITY ...> declarations and "
                                            "upload again.") from None
    except Exception as exc:  # ParseError
        raise AoiError(UNREADABLE, f"The XML is malformed ({_short(exc)}).") from None


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _read_xml(raw: bytes, fmt_if_kml: str = KML) -> Decoded:
    root = _parse_xml(raw)
    name = _local(root.tag)
    ns = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if name == "kml" or "opengis.net/kml" in ns or "earth.google.com/kml" in ns:
        return _read_kml(root, fmt_if_kml)
    if "gml" in ns or any("opengis.net/gml" in (el.tag or "") for el in _first_elements(root)):
        decoded = _read_gdal_bytes(raw, GML, "GML", ext=".gml")
        if _GML_CURVES.search(raw) and not any(w["code"] == W_LINEARISED for w in decoded.warnings):
            decoded.warnings.append(linearised_warning("The GML holds"))
        return decoded
    raise AoiError(UNKNOWN_FORMAT, f"XML with root element <{name}> is neither KML nor GML. "
                                   + _UNKNOWN_HINT)


def _first_elements(root: Element, n: int = 200) -> Iterator[Element]:
    for i, el in enumerate(root.iter()):
        if i >= n:
            return
        if isinstance(el.tag, str):
            yield el


# GML curve segments (GDAL linearises them; the import says so)
_GML_CURVES = re.compile(rb"<(?:[\w.-]+:)?(?:Arc|ArcString|ArcByBulge|ArcStringByBulge|"
                         rb"ArcByCenterPoint|Circle|CircleByCenterPoint|CubicSpline|BSpline)\b")
_KML_DROPPED = {"Point", "LineString", "LinearRing", "Track", "MultiTrack", "Model"}
# KML features that are not areas: named in the report as skipped, never followed or fetched
_KML_NOT_AREAS = {"GroundOverlay": "an image laid over the map",
                  "PhotoOverlay": "a photo", "ScreenOverlay": "an image fixed to the screen",
                  "NetworkLink": "a link to another file, which is never fetched"}


def _kml_name(el: Element) -> str:
    for child in el:
        if _local(child.tag) == "name":
            return (child.text or "").strip()[:120]
    return ""


def _read_kml(root: Element, fmt: str) -> Decoded:
    """Every Folder is a layer (as GDAL's KML driver has it); a layer whose coordinates cannot be
    read is skipped and named, unless it is the only one."""
    decoded = Decoded(fmt)
    groups: dict[int, tuple[str, list[Element]]] = {}
    _kml_group(root, (id(root), _kml_name(root) or "the document"), groups, decoded)
    counter = _PartCounter()
    for name, placemarks in groups.values():
        layer = Layer([], None, name)
        before = counter.n
        try:
            for pm in placemarks:
                _kml_placemark(pm, layer, counter, decoded.warnings)
        except AoiError as err:
            if len(groups) == 1 or err.code != UNREADABLE:
                raise
            counter.n = before
            decoded.skipped.append({"layer": name, "code": UNREADABLE, "reason": err.message})
            continue
        decoded.layers.append(layer)
    return decoded


def _kml_group(el: Element, current: tuple[int, str], groups: dict[int, tuple[str, list[Element]]],
               decoded: Decoded) -> None:
    for child in el:
        name = _local(child.tag)
        if name == "Placemark":
            groups.setdefault(current[0], (current[1], []))[1].append(child)
        elif name == "Folder":
            label = _kml_name(child) or f"Folder {sum(1 for _ in groups) + 1}"
            _kml_group(child, (id(child), label), groups, decoded)
        elif name in _KML_NOT_AREAS:
            label = _kml_name(child) or name
            decoded.skipped.append({"layer": label, "code": NO_POLYGON,
                                    "reason": f"{name} {label!r} is {_KML_NOT_AREAS[name]}, not an "
                                              f"area"})
        elif isinstance(child.tag, str):
            _kml_group(child, current, groups, decoded)


def _kml_placemark(pm: Element, layer: Layer, counter: _PartCounter,
                   warnings: list[dict[str, Any]]) -> None:
    polys: list[list[Any]] = []
    dropped = [0]
    _kml_walk(pm, polys, dropped)
    # Points/lines only need counting (they are dropped with a warning): empty markers.
    layer.geometries.extend(shapely.LineString() for _ in range(dropped[0]))
    if not polys:
        return
    n = counter.next()
    pname = _kml_name(pm) or f"Placemark {n}"
    closed: list[str] = []
    geom: BaseGeometry
    try:
        if len(polys) == 1:
            geom = build_polygon(polys[0], f"Polygon {n}", closed)
        else:
            geom = shapely.MultiPolygon([build_polygon(p, f"MultiPolygon {n}", closed)
                                         for p in polys])
    except AoiError as err:
        if err.code != INVALID_RING:
            raise
        err.where["placemark"] = pname
        layer.broken[len(layer.geometries)] = err
        geom = shapely.Polygon() if len(polys) == 1 else shapely.MultiPolygon()
    layer.geometries.append(geom)
    if closed:
        warnings.append(warning(
            W_CLOSED_RING, f"Placemark {pname!r}: its {' and '.join(closed)} did not end where it "
                           f"started; closed by repeating the first position.",
            placemark=pname, rings=closed))


def _kml_walk(el: Element, polys: list[list[Any]], dropped: list[int]) -> None:
    for child in el:
        name = _local(child.tag)
        if name == "Polygon":
            rings = []
            for b in child:
                bname = _local(b.tag)
                if bname in ("outerBoundaryIs", "innerBoundaryIs"):
                    for lr in b.iter():
                        if _local(lr.tag) == "coordinates":
                            rings.append((bname, _kml_coords(lr.text or "")))
            outer = [r for b, r in rings if b == "outerBoundaryIs"]
            inner = [r for b, r in rings if b == "innerBoundaryIs"]
            polys.append(outer[:1] + inner)
        elif name in _KML_DROPPED:
            dropped[0] += 1
        else:
            _kml_walk(child, polys, dropped)


def _kml_coords(text: str) -> np.ndarray:
    """``lon,lat[,alt] lon,lat[,alt] ...`` into an (n, 2) array, vectorised."""
    text = re.sub(r"\s*,\s*", ",", text.strip())
    tokens = text.split()
    if not tokens:
        return np.empty((0, 2))
    commas = text.count(",")
    for k in (2, 3):
        if commas == (k - 1) * len(tokens):
            try:
                vals = np.array(text.replace(",", " ").split(), dtype=float)
                return vals.reshape(-1, k)[:, :2]
            except ValueError:
                break
    try:
        return np.array([[float(v) for v in t.split(",")[:2]] for t in tokens], dtype=float)
    except ValueError:
        raise AoiError(UNREADABLE, f"KML coordinates are not 'lon,lat[,alt]' tuples near "
                                   f"{tokens[0][:40]!r}.") from None


# ------------------------------------------------------------------------------------------
# archives (zipped shapefiles, KMZ, zipped GeoPackage/GML/...)


def _unsafe_name(name: str) -> bool:
    parts = re.split(r"[\\/]+", name)
    return (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) is not None
            or ".." in parts)


def _read_zip(raw: bytes, limits: Limits, budget: _Budget, depth: int) -> Decoded:
    if depth > limits.max_archive_depth:
        raise AoiError(ARCHIVE_TOO_LARGE,
                       f"The upload nests archives more than {limits.max_archive_depth} deep "
                       f"(max_archive_depth); unpack the inner archives and upload their files.",
                       where={"limit": "max_archive_depth", "value": limits.max_archive_depth})
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise AoiError(UNREADABLE, f"The zip archive is damaged ({_short(exc)}).") from None
    unsafe = next((i.filename for i in infos if _unsafe_name(i.filename)), None)
    if unsafe is not None:
        raise AoiError(UNSAFE_ARCHIVE_PATH,
                       f"The archive holds a file named \"{unsafe[:120]}\", a path that points "
                       f"outside the archive (.. or an absolute path); zip the files again from "
                       f"their folder.", where={"member": unsafe[:200]})
    infos = [i for i in infos
             if not (i.filename.startswith("__MACOSX/") or os.path.basename(i.filename)
                     .startswith("._"))]
    # a FileGDB zipped from inside its folder: its tables sit in a folder not named .gdb
    bare_gdbs = {os.path.dirname(i.filename) for i in infos
                 if _ext(i.filename) == ".gdbtable" and ".gdb/" not in i.filename.lower()}
    wanted = [i for i in infos if _ext(i.filename) in _GDAL_EXTS | _TEXT_EXTS | _SIDECAR_EXTS
              | _ARCHIVE_EXTS or ".gdb/" in i.filename.lower()
              or (os.path.dirname(i.filename) in bare_gdbs and _ext(i.filename) not in _TEXT_EXTS)]
    total = sum(i.file_size for i in wanted)
    if total > budget.left:
        raise budget.refuse(budget.limit - budget.left + total)
    for i in wanted:
        ratio = i.file_size / max(i.compress_size, 1)
        if i.file_size > 1024 * 1024 and ratio > limits.max_compression_ratio:
            raise AoiError(ARCHIVE_TOO_LARGE,
                           f"{i.filename} expands {ratio:,.0f} times (limit "
                           f"{limits.max_compression_ratio:,.0f}, max_compression_ratio); this "
                           f"looks like a zip bomb and is refused.",
                           where={"limit": "max_compression_ratio", "member": i.filename})

    def read_member(info: zipfile.ZipInfo) -> bytes:
        # Headers can lie about sizes: count what really comes out.
        chunks = []
        try:
            with zf.open(info) as fh:
                while True:
                    chunk = fh.read(1 << 20)
                    if not chunk:
                        break
                    budget.left -= len(chunk)
                    if budget.left < 0:
                        raise budget.refuse()
                    chunks.append(chunk)
        except AoiError:
            raise
        except Exception as exc:  # CRC errors, encrypted members, bad compression
            raise AoiError(UNREADABLE, f"{info.filename} in the archive cannot be read "
                                       f"({_short(exc)}).") from None
        return b"".join(chunks)

    kmls = [i for i in wanted if _ext(i.filename) == ".kml"]
    gdal_main = [i for i in wanted if _ext(i.filename) in _GDAL_EXTS]
    gdbs = sorted({i.filename[:i.filename.lower().index(".gdb/") + 4] for i in wanted
                   if ".gdb/" in i.filename.lower()})
    texts = [i for i in wanted if _ext(i.filename) in _TEXT_EXTS - {".kml"}
             and os.path.dirname(i.filename) not in bare_gdbs]
    archives = [i for i in wanted if _ext(i.filename) in _ARCHIVE_EXTS]
    if kmls and not gdal_main and not gdbs and not archives:
        # KMZ: doc.kml at the root by convention, else every .kml found.
        decoded = Decoded(KMZ)
        for info in kmls:
            decoded.absorb(_read_xml(read_member(info)))
        return decoded
    if not gdal_main and not gdbs and not texts and not archives and not kmls and not bare_gdbs:
        raise AoiError(EMPTY_INPUT if not infos else UNKNOWN_FORMAT,
                       "The archive holds no file we can read (.shp with its .shx/.dbf/.prj, "
                       ".gpkg, .gdb, .sqlite, .gml, .fgb, .kml, .geojson, .wkt, .csv).")
    shp_only = all(_ext(i.filename) == ".shp" for i in gdal_main) and not gdbs and not bare_gdbs
    decoded = Decoded(SHAPEFILE_ZIP if gdal_main and shp_only and not texts and not archives
                      else ZIP)
    for info in texts + archives + (kmls if archives and not gdal_main and not gdbs else []):
        member = read_member(info)
        if _ext(info.filename) == ".json" and not member.strip():
            continue
        if _ext(info.filename) == ".kml":
            sub = _read_xml(member)
        else:  # a text member may itself be an archive: same budget, one level deeper
            sub = read_aoi(member, filename=info.filename, limits=limits, _budget=budget,
                           _depth=depth)
        decoded.absorb(sub)
    if gdal_main or gdbs or bare_gdbs:
        with tempfile.TemporaryDirectory(prefix="aoi-") as tmp:
            # Each archive folder becomes a numbered folder; file names are sanitised, so
            # sidecars stay next to their .shp and nothing escapes the temp dir.
            folders: dict[str, str] = {}
            for info in wanted:
                if _ext(info.filename) in _TEXT_EXTS:
                    continue
                inner = info.filename
                gdb_root = next((g for g in gdbs if inner.startswith(g + "/")), None)
                if os.path.dirname(inner) in bare_gdbs:
                    key, rel = "gdb:" + os.path.dirname(inner), os.path.basename(inner)
                    dirname = _folder(tmp, folders, key) + "/upload.gdb"
                elif gdb_root is not None:
                    key, rel = gdb_root, os.path.basename(inner)
                    dirname = _folder(tmp, folders, key) + "/" + _safe(os.path.basename(gdb_root))
                else:
                    key, rel = os.path.dirname(inner), os.path.basename(inner)
                    dirname = _folder(tmp, folders, key)
                os.makedirs(dirname, exist_ok=True)
                with open(os.path.join(dirname, _safe(rel)), "wb") as fh:
                    fh.write(read_member(info))
            for info in gdal_main:
                path = os.path.join(_folder(tmp, folders, os.path.dirname(info.filename)),
                                    _safe(os.path.basename(info.filename)))
                decoded.absorb(_read_gdal_path(path, info.filename))
                if _ext(info.filename) == ".shp" and not _has_sidecar(path, ".prj"):
                    decoded.warnings.append(warning(
                        W_MISSING_PRJ, f"{info.filename} has no .prj file; its coordinates "
                                       f"were read as WGS84 longitude/latitude.",
                        file=info.filename))
            for g in gdbs:
                path = _folder(tmp, folders, g) + "/" + _safe(os.path.basename(g))
                decoded.absorb(_read_gdal_path(path, g))
            for d in sorted(bare_gdbs):
                path = _folder(tmp, folders, "gdb:" + d) + "/upload.gdb"
                decoded.absorb(_read_gdal_path(path, (d or "the archive") + " (FileGDB)"))
    return decoded


def _folder(tmp: str, folders: dict[str, str], key: str) -> str:
    if key not in folders:
        folders[key] = os.path.join(tmp, f"d{len(folders)}")
    return folders[key]


def _safe(name: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"
    return "_" + name if name.startswith(".") else name


def _has_sidecar(shp_path: str, ext: str) -> bool:
    stem = os.path.splitext(shp_path)[0]
    folder = os.path.dirname(shp_path)
    base = os.path.basename(stem).lower()
    return any(os.path.splitext(f)[0].lower() == base and os.path.splitext(f)[1].lower() == ext
               for f in os.listdir(folder))


# ------------------------------------------------------------------------------------------
# GDAL via pyogrio (allow-listed formats only)


def _read_gdal_bytes(raw: bytes, fmt: str, what: str, ext: str,
                     options: dict[str, str] | None = None) -> Decoded:
    # Drivers recognise their content by the file name too (GML, CSV): a named temporary file.
    with tempfile.TemporaryDirectory(prefix="aoi-") as tmp:
        path = os.path.join(tmp, "upload" + ext)
        with open(path, "wb") as fh:
            fh.write(raw)
        return _read_gdal_path(path, what, fmt, options)


# GML may name remote schemas: never fetch them (no network access from an upload).
_GML_OPTIONS = {"DOWNLOAD_SCHEMA": "NO"}
_CSV_OPTIONS = {"KEEP_GEOM_COLUMNS": "NO", "AUTODETECT_TYPE": "NO"}
_NOT_POLYGONAL = {"point", "multipoint", "linestring", "multilinestring", "circularstring",
                  "compoundcurve", "multicurve", "curve", "linearring"}
_CURVED = {"curvepolygon", "multisurface", "surface"}
_GDAL_MISSING_LAYER = re.compile(r"Table/view (\S+) is referenced in gpkg_contents, but does not "
                                 r"exist|[Ll]ayer '([^']+)' (?:could not|cannot)")


def _base_type(geom_type: str) -> str:
    t = geom_type.lower().replace("3d ", "").strip()
    for suffix in (" zm", " z", " m"):
        t = t.removesuffix(suffix)
    return t


def _read_gdal_path(path: str, label: str, fmt: str = ZIP,
                    options: dict[str, str] | None = None) -> Decoded:
    """Every polygonal layer of a GDAL dataset. A layer of points or lines, or one GDAL cannot
    read, is skipped and named (the file is refused only when nothing polygonal is left; a
    single-layer file that cannot be read is refused with GDAL's reason)."""
    import pyogrio
    import pyogrio.raw

    # arcs of curve geometries become chords every ARC_STEP_DEGREES (GDAL's default is 4°)
    pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": str(ARC_STEP_DEGREES)})
    decoded = Decoded(fmt)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            layer_list = pyogrio.list_layers(path)
    except Exception as exc:
        raise AoiError(UNREADABLE, f"{label} cannot be opened ({_short(exc)}).") from None
    for w in seen:  # a layer GDAL leaves out of the list says so only in a warning
        m = _GDAL_MISSING_LAYER.search(str(w.message))
        if m:
            missing = m.group(1) or m.group(2)
            decoded.skipped.append({"layer": missing, "code": UNREADABLE,
                                    "reason": f"layer {missing!r} of {label} cannot be read "
                                              f"({_short(Exception(str(w.message)))})"})
    opts = dict(options or {})
    if path.lower().endswith(".gml"):
        opts |= _GML_OPTIONS
    spatial = [(str(n), str(t)) for n, t in layer_list if t is not None]
    curved = False
    for name, geom_type in spatial:
        base = _base_type(geom_type)
        if base in _NOT_POLYGONAL:
            decoded.skipped.append({"layer": name, "code": NO_POLYGON,
                                    "reason": f"layer {name!r} of {label} holds {geom_type} "
                                              f"features, not polygons"})
            continue
        try:
            with warnings.catch_warnings():  # what matters of GDAL's warnings is in the report
                warnings.simplefilter("ignore", RuntimeWarning)
                meta, _fids, wkb, _fields = pyogrio.raw.read(path, layer=name, columns=[],
                                                             force_2d=True, **opts)
        except Exception as exc:
            if len(spatial) == 1:
                raise AoiError(UNREADABLE, f"{label}, layer {name!r}, cannot be read "
                                           f"({_short(exc)}).") from None
            decoded.skipped.append({"layer": name, "code": UNREADABLE,
                                    "reason": f"layer {name!r} of {label} cannot be read "
                                              f"({_short(exc)})"})
            continue
        curved = curved or base in _CURVED
        layer = Layer([], meta.get("crs") or None, f"{label}:{name}")
        if wkb is not None and len(wkb):
            geoms = shapely.from_wkb(wkb, on_invalid="ignore")
            for k, (raw, g) in enumerate(zip(wkb, geoms, strict=True)):
                if g is not None:
                    layer.geometries.append(g)
                elif raw is not None:  # bytes shapely refuses: an unclosed or too short ring
                    layer.broken[len(layer.geometries)] = AoiError(
                        INVALID_RING, f"{label}, layer {name!r}, feature {k + 1}: the geometry "
                                      f"is malformed; rings must be closed and have at least 4 "
                                      f"positions.",
                        where={"layer": name, "feature": k + 1, "reason": "malformed"})
                    layer.geometries.append(shapely.Polygon())
        decoded.layers.append(layer)
    if curved:
        decoded.warnings.append(linearised_warning(f"{label} holds"))
    return decoded


# ------------------------------------------------------------------------------------------
# SQLite: GeoPackage or SpatiaLite


# Virtual-table modules that only index or derive from tables of the same database.
_SAFE_VIRTUAL = {"rtree", "rtree_i32", "virtualspatialindex", "virtualelementary", "virtualknn",
                 "virtualknn2", "virtualfdo", "virtualgpkg", "virtualbbox", "fts3", "fts4", "fts5"}
_VIRTUAL = re.compile(r"create\s+virtual\s+table\s+.*?\busing\s+([\w]+)", re.I | re.S)


def _read_sqlite(raw: bytes) -> Decoded:
    """A GeoPackage (application id GPKG/GP1x or a gpkg_contents table) or a SpatiaLite / OGR
    SQLite database. The schema is read with sqlite3 first: a virtual table on a module that
    can read other files (VirtualShape, VirtualText, VirtualXL, ...) is refused before GDAL,
    which has SpatiaLite loaded, could open it."""
    with tempfile.TemporaryDirectory(prefix="aoi-") as tmp:
        path = os.path.join(tmp, "upload.sqlite")
        with open(path, "wb") as fh:
            fh.write(raw)
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
            try:
                rows = conn.execute("SELECT name, sql FROM sqlite_master").fetchall()
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            finally:
                conn.close()
        except (sqlite3.Error, OverflowError, ValueError) as exc:
            raise AoiError(UNREADABLE, f"The SQLite database is damaged ({_short(exc)}).") \
                from None
        for name, sql in rows:
            m = _VIRTUAL.search(sql or "")
            if m and m.group(1).lower() not in _SAFE_VIRTUAL:
                raise AoiError(UNREADABLE, f"The database declares the virtual table "
                                           f"{str(name)[:80]!r} on module {m.group(1)!r}, which "
                                           f"reads outside the file; it is not opened. Export the "
                                           f"layer as a plain table or a GeoPackage.",
                               where={"table": str(name)[:200], "module": m.group(1)[:80]})
        names = {str(n).lower() for n, _ in rows}
        if app_id in (0x47504B47, 0x47503130, 0x47503131) or "gpkg_contents" in names:
            gpkg = path[:-len(".sqlite")] + ".gpkg"  # GDAL expects the GeoPackage extension
            os.rename(path, gpkg)
            decoded = _read_gdal_path(gpkg, "The GeoPackage", GPKG)
            if _gpkg_curved(gpkg) and not any(w["code"] == W_LINEARISED for w in decoded.warnings):
                decoded.warnings.append(linearised_warning("The GeoPackage holds"))
            return decoded
        if "geometry_columns" not in names:
            raise AoiError(UNREADABLE, "The SQLite database has no geometry_columns table: it is "
                                       "neither a GeoPackage nor a SpatiaLite database.")
        return _read_gdal_path(path, "The SpatiaLite database", SPATIALITE, {"LIST_ALL_TABLES": "NO"})


def _gpkg_curved(path: str) -> bool:
    """Whether a layer declares a curve type (GDAL reports the linear type it turns it into)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            types = conn.execute("SELECT geometry_type_name FROM gpkg_geometry_columns").fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return any(_base_type(str(t)) in _CURVED for (t,) in types)


# ------------------------------------------------------------------------------------------
# CSV with a WKT or GeoJSON geometry column (or longitude/latitude columns)

_CSV_GEOM_NAMES = ("wkt", "geometry", "geom", "the_geom", "wkt_geom", "shape", "geojson",
                   "geometrie", "geo_shape", "footprint", "polygon", "boundary")
_CSV_X_NAMES = ("longitude", "lon", "long", "lng", "x")
_CSV_Y_NAMES = ("latitude", "lat", "y")
_CSV_SEPARATORS = {",": "COMMA", ";": "SEMICOLON", "\t": "TAB", "|": "PIPE"}


def _csv_header(line: str) -> tuple[str, str, str | None] | None:
    """``(separator, geometry column, None)`` or ``(separator, x column, y column)`` when the
    line is a CSV header naming a geometry column (or longitude and latitude columns)."""
    for sep in _CSV_SEPARATORS:
        if sep not in line:
            continue
        cells = next(csv.reader([line], delimiter=sep))
        names = {c.strip().strip('"').lower(): c.strip().strip('"') for c in cells}
        geom = next((names[n] for n in _CSV_GEOM_NAMES if n in names), None)
        if geom is not None:
            return sep, geom, None
        x = next((names[n] for n in _CSV_X_NAMES if n in names), None)
        y = next((names[n] for n in _CSV_Y_NAMES if n in names), None)
        if x is not None and y is not None:
            return sep, x, y
    return None


def _read_csv(text: str, sep: str, col: str, ycol: str | None) -> Decoded:
    opts = _CSV_OPTIONS | {"SEPARATOR": _CSV_SEPARATORS[sep]}
    if ycol is not None:  # points from longitude/latitude columns: dropped later, with a count
        return _read_gdal_bytes(text.encode("utf-8"), CSV, "The CSV", ".csv",
                                opts | {"X_POSSIBLE_NAMES": col, "Y_POSSIBLE_NAMES": ycol})
    import pyogrio
    import pyogrio.raw

    pyogrio.set_gdal_config_options({"OGR_ARC_STEPSIZE": str(ARC_STEP_DEGREES)})
    opts |= {"GEOM_POSSIBLE_NAMES": col}
    with tempfile.TemporaryDirectory(prefix="aoi-") as tmp:
        path = os.path.join(tmp, "upload.csv")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        try:
            with warnings.catch_warnings():  # an unparsable cell: reported as a broken row below
                warnings.simplefilter("ignore", RuntimeWarning)
                _meta, _fids, wkb, fields = pyogrio.raw.read(path, columns=[], force_2d=True,
                                                             **opts)
            if any(w is None for w in wkb):
                # rows without geometry: read the cells too, to tell an empty cell from a broken one
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    _meta, _fids, wkb, fields = pyogrio.raw.read(
                        path, columns=[col], force_2d=True, **opts | {"KEEP_GEOM_COLUMNS": "YES"})
        except Exception as exc:
            raise AoiError(UNREADABLE, f"The CSV cannot be read ({_short(exc)}).") from None
    decoded = Decoded(CSV)
    layer = Layer([], None, "CSV")
    cells = fields[0] if len(fields) else [None] * len(wkb)
    geoms = shapely.from_wkb(wkb, on_invalid="ignore") if len(wkb) else []
    for row, (cell, raw, geom) in enumerate(zip(cells, wkb, geoms, strict=True), start=2):
        if geom is not None:
            layer.geometries.append(geom)
            continue
        if raw is None and not (cell or "").strip():
            continue  # a row without geometry
        # GDAL leaves a cell it cannot parse without geometry: a broken part, named by its row
        layer.broken[len(layer.geometries)] = AoiError(
            UNREADABLE if raw is None else INVALID_RING,
            f"CSV row {row}: the {col} column holds "
            + ("neither WKT nor GeoJSON" if raw is None else "a malformed geometry (rings must be "
               "closed and have at least 4 positions)") + f" ({str(cell or '')[:40]!r}).",
            where={"row": row, "column": col})
        layer.geometries.append(shapely.Polygon())
    decoded.layers.append(layer)
    if _CSV_CURVES.search(text):
        decoded.warnings.append(linearised_warning("The CSV holds"))
    return decoded


_CSV_CURVES = re.compile(r"\b(?:CURVEPOLYGON|MULTISURFACE|COMPOUNDCURVE|CIRCULARSTRING|MULTICURVE)"
                         r"\b", re.I)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def iter_geometries(decoded: Decoded) -> Iterable[tuple[BaseGeometry, str | None]]:
    for layer in decoded.layers:
        for g in layer.geometries:
            yield g, layer.crs
