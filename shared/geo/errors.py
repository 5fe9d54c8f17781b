"""AOI refusals: one exception type with a stable machine code per rule.

Every refusal of a user-supplied area of interest is an :class:`AoiError`. The HTTP layer turns it
into an RFC 9457 problem document (``status``, ``code``, ``detail`` = ``message``, ``where``); no
other exception type may escape :func:`shared.geo.aoi.import_aoi` for bad input.
"""

from __future__ import annotations

from typing import Any

# --- refusal codes (stable: clients and tests match on them) ---------------------------------
UNKNOWN_FORMAT = "unknown_format"  # content is not a format we read
UNREADABLE = "unreadable"  # recognised format, but the content is broken
EMPTY_INPUT = "empty_input"  # no bytes, or a container with no geometry at all
NO_POLYGON = "no_polygon"  # only points/lines
INVALID_RING = "invalid_ring"  # self-intersection, bow-tie, too few points, unclosed, NaN/Inf
COORDINATES_OUT_OF_RANGE = "coordinates_out_of_range"  # outside lon ±180 / lat ±90
LATITUDE_OUT_OF_RANGE = "latitude_out_of_range"  # outside -80..84 (outside UTM)
SLIVER = "sliver"  # area < 5 % of its bounding box
BBOX_SIDE_TOO_SHORT = "bbox_side_too_short"  # a bounding-box side <= 150 m
UPLOAD_TOO_LARGE = "upload_too_large"  # 413
ARCHIVE_TOO_LARGE = "archive_too_large"  # 413: uncompressed size or ratio (zip bomb)
TOO_MANY_PARTS = "too_many_parts"
TOO_MANY_VERTICES = "too_many_vertices"
AREA_TOO_LARGE = "area_too_large"  # total geodesic area over the per-item limit
XML_EXTERNAL_ENTITY = "xml_external_entity"  # DOCTYPE / ENTITY in KML or GML: refused unparsed
CRS_UNKNOWN = "crs_unknown"  # declared CRS cannot be understood or reprojected
INCOMPLETE_SHAPEFILE = "incomplete_shapefile"  # a bare .shp (sidecars missing): upload a .zip
UNSAFE_ARCHIVE_PATH = "unsafe_archive_path"  # an archive member named with .. or an absolute path

ERROR_CODES: tuple[str, ...] = (
    UNKNOWN_FORMAT,
    UNREADABLE,
    EMPTY_INPUT,
    NO_POLYGON,
    INVALID_RING,
    COORDINATES_OUT_OF_RANGE,
    LATITUDE_OUT_OF_RANGE,
    SLIVER,
    BBOX_SIDE_TOO_SHORT,
    UPLOAD_TOO_LARGE,
    ARCHIVE_TOO_LARGE,
    TOO_MANY_PARTS,
    TOO_MANY_VERTICES,
    AREA_TOO_LARGE,
    XML_EXTERNAL_ENTITY,
    CRS_UNKNOWN,
    INCOMPLETE_SHAPEFILE,
    UNSAFE_ARCHIVE_PATH,
)

# Size limits are "payload too large"; everything else is "unprocessable content".
_STATUS: dict[str, int] = {UPLOAD_TOO_LARGE: 413, ARCHIVE_TOO_LARGE: 413}

# --- warning codes (the import succeeds; the report carries them) ----------------------------
W_DROPPED_NON_POLYGON = "dropped_non_polygon"
W_OVERLAP = "overlap"
W_MISSING_PRJ = "missing_prj"
W_REPAIRED = "repaired"
W_DISSOLVED = "dissolved"
W_ANTIMERIDIAN_SPLIT = "antimeridian_split"
W_BELOW_MINIMUM_AREA = "below_minimum_area"
W_LINEARISED = "linearised_curves"  # arcs turned into chords (the tolerance is in the message)
W_CLOSED_RING = "closed_ring"  # a KML ring that did not repeat its first position
W_SNAPPED = "snapped_coordinates"  # float noise a hair beyond ±180 / ±90 moved onto the limit
W_WRAPPED = "wrapped_longitudes"  # a web map's 170 ... 190 brought back into -180 ... 180
W_LAYER_SKIPPED = "layer_skipped"  # one layer of a multi-layer file unreadable or not polygonal
W_DROPPED_FAILING = "dropped_failing_parts"  # drop_failing=true removed the parts that broke a rule

WARNING_CODES: tuple[str, ...] = (
    W_DROPPED_NON_POLYGON,
    W_OVERLAP,
    W_MISSING_PRJ,
    W_REPAIRED,
    W_DISSOLVED,
    W_ANTIMERIDIAN_SPLIT,
    W_BELOW_MINIMUM_AREA,
    W_LINEARISED,
    W_CLOSED_RING,
    W_SNAPPED,
    W_WRAPPED,
    W_LAYER_SKIPPED,
    W_DROPPED_FAILING,
)


class AoiError(Exception):
    """A refused AOI: ``code`` (stable), ``status`` (413 or 422), a ``message`` a person can act
    on (which part, which coordinate, which limit, what to do) and optional ``where`` details.

    ``code``, ``message`` and ``where`` name the first problem found; ``report`` (set by
    :func:`shared.geo.aoi.import_aoi`) lists every part with its facts and every violation of
    every part, so a client can mark all of them at once."""

    def __init__(self, code: str, message: str, *, where: dict[str, Any] | None = None,
                 status: int | None = None, report: dict[str, Any] | None = None) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown AOI error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else _STATUS.get(code, 422)
        self.where = dict(where or {})
        self.report = report

    # pickled whole (an import in a worker process refuses with it)
    def __reduce__(self) -> tuple[Any, tuple[str, str, dict[str, Any], int, dict[str, Any] | None]]:
        return _rebuild, (self.code, self.message, self.where, self.status, self.report)

    def violation(self) -> dict[str, Any]:
        """This refusal as one entry of a report's violation list."""
        return {"code": self.code, "message": self.message, "where": dict(self.where)}

    def to_problem(self) -> dict[str, Any]:
        """RFC 9457 problem-details body (the HTTP layer may add ``instance``)."""
        problem: dict[str, Any] = {
            "type": f"https://tessera.example/problems/aoi/{self.code}",
            "title": self.code.replace("_", " "),
            "status": self.status,
            "code": self.code,
            "detail": self.message,
        }
        if self.where:
            problem["where"] = self.where
        if self.report is not None:
            problem["report"] = self.report
        return problem

    def __repr__(self) -> str:
        return f"AoiError({self.code!r}, {self.message!r})"


def _rebuild(code: str, message: str, where: dict[str, Any], status: int,
             report: dict[str, Any] | None = None) -> AoiError:
    return AoiError(code, message, where=where, status=status, report=report)


def warning(code: str, message: str, **details: Any) -> dict[str, Any]:
    """A report warning: ``{"code", "message", **details}``."""
    if code not in WARNING_CODES:
        raise ValueError(f"unknown AOI warning code {code!r}")
    return {"code": code, "message": message, **details}
