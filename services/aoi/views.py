"""Response shapes of the aoi service: the AOI with its geometry, the list summary, pages.

The geometry is served as the GeoJSON text the service stored (or just computed), embedded with
``orjson.Fragment``: never parsed into Python objects and dumped again.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, create_model

from services.aoi.domain import OPTIONS, Prepared, Upload, encode_cursor


def json_response(body: dict[str, Any], status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """orjson, so the geometry passes through as the stored GeoJSON text, never parsed again."""
    return Response(orjson.dumps(body), status_code=status_code, headers=headers, media_type="application/json")


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def aoi_body(row: Any, geometry_json: str | None = None) -> dict[str, Any]:
    """The AOI as served; the geometry is GeoJSON text (``geometry_json``, or the row's
    ``geometry`` selected as text), embedded as it is."""
    return {
        "id": row["id"],
        "account_id": row["account_id"],
        "name": row["name"],
        "created_at": _iso(row["created_at"]),
        "source_format": row["source_format"],
        "geometry": orjson.Fragment(geometry_json if geometry_json is not None else row["geometry"]),
        "report": row["report"],
    }


def validation_body(upload: Upload, aoi: Prepared) -> dict[str, Any]:
    """The answer of a dry run: the normalised geometry and the report."""
    return {"valid": True, "name": upload.name, "source_format": aoi.source_format,
            "geometry": orjson.Fragment(aoi.geometry_json), "report": aoi.report}


def summary_body(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "created_at": _iso(row["created_at"]),
        "source_format": row["source_format"],
        "area_km2": row["area_km2"],
        "billable_km2": row["billable_km2"],
        "bbox": [row["min_lon"], row["min_lat"], row["max_lon"], row["max_lat"]],
        "parts": (row["totals"] or {}).get("parts"),
        "url": f"/v1/aois/{row['id']}",
    }


def page_body(rows: list[Any], next_row: Any | None, **extra: Any) -> dict[str, Any]:
    """A page of summaries; ``next_row`` is where the next page starts after (None: the last page)."""
    return {"items": [summary_body(r) for r in rows],
            "next_cursor": encode_cursor(next_row) if next_row is not None else None, **extra}


# ------------------------------------------------------------------------------ OpenAPI shapes
# Documentation of the bodies above (the routes answer with orjson, never through these models).

class GeoJsonGeometry(BaseModel):
    """A GeoJSON geometry (RFC 7946), longitude/latitude in EPSG:4326; an AOI is a GeometryCollection
    of its polygons."""

    model_config = ConfigDict(extra="allow")
    type: str
    coordinates: list[Any] | None = None
    geometries: list[dict[str, Any]] | None = None


class Violation(BaseModel):
    """A broken rule: its code, what to do, and where (part, coordinate, limit, line)."""

    model_config = ConfigDict(extra="allow")
    code: str
    message: str
    where: dict[str, Any] = {}


class ReportWarning(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    message: str


class PartReport(BaseModel):
    """One polygon of the AOI (1-based ``index``, labelled "Polygon N" elsewhere) and its facts."""

    model_config = ConfigDict(extra="allow")
    index: int
    kind: str
    area_km2: float
    billable_km2: float | None = None
    bbox: list[float]
    vertex_count: int
    bbox_width_m: float | None = None
    bbox_height_m: float | None = None
    fill_ratio: float | None = None
    crosses_antimeridian: bool | None = None
    encloses_pole: str | None = Field(None, description="a ring round a pole: which")
    source_index: int | None = Field(None, description="the part's position in the input, when parts were dropped")
    violations: list[Violation] = []


class ReportTotals(BaseModel):
    model_config = ConfigDict(extra="allow")
    parts: int
    area_km2: float
    billable_km2: float | None = None
    vertex_count: int
    bbox: list[float]


class AoiReport(BaseModel):
    """The import report: every part with its facts, warnings, and (on a refusal) every violation."""

    model_config = ConfigDict(extra="allow")
    source_format: str
    parts: list[PartReport]
    totals: ReportTotals
    warnings: list[ReportWarning] = []
    violations: list[Violation] = []
    dropped: list[dict[str, Any]] = []
    hints: list[Any] = []


class Aoi(BaseModel):
    """A stored AOI (``POST /v1/aois``, ``GET /v1/aois/{id}``)."""

    id: str
    account_id: str
    name: str | None
    created_at: datetime
    source_format: str
    geometry: GeoJsonGeometry
    report: AoiReport


class AoiValidation(BaseModel):
    """A dry run's answer: the AOI as it would be stored, nothing kept."""

    valid: bool
    name: str | None
    source_format: str
    geometry: GeoJsonGeometry
    report: AoiReport


class AoiSummary(BaseModel):
    id: str
    name: str | None
    created_at: datetime
    source_format: str
    area_km2: float
    billable_km2: float | None
    bbox: list[float] = Field(description="[minLon, minLat, maxLon, maxLat]")
    parts: int | None
    url: str


class AoiPage(BaseModel):
    """A page of AOIs, newest first; follow ``next_cursor`` (null on the last page)."""

    items: list[AoiSummary]
    next_cursor: str | None
    prefilter: Literal["h3", "bbox"] | None = Field(
        None, description="an overlap query only: how candidates were found before the exact test")


def _option_fields() -> dict[str, Any]:
    # from the options the upload reads, so a new option is documented where it is added
    return {key: (str | None if key == "name" else bool | None, None) for key in OPTIONS}


AoiUploadForm = create_model(  # multipart/form-data: the file and the options as form fields
    "AoiUploadForm", __doc__="An AOI file (any format the service reads) in the field `file`, options as fields.",
    file=(bytes, Field(description="the AOI file: KML, KMZ, GeoJSON, WKT, zipped Shapefile, GeoPackage, ...")),
    **_option_fields())

AoiJsonBody = create_model(  # application/json: a GeoJSON object, or a wrapper naming the text and options
    "AoiJsonBody", __config__=ConfigDict(extra="allow"),
    __doc__="GeoJSON (a geometry, Feature or FeatureCollection), or a wrapper {\"Wkt\": ...} / {\"GeoJson\": ...} "
            "(keys case-insensitive) with the options as keys.",
    type=(str | None, Field(None, description="a GeoJSON object's type")),
    Wkt=(str | None, None), GeoJson=(dict[str, Any] | str | None, None), **_option_fields())


class AoiSearch(BaseModel):
    """``POST /v1/aois:search``: the overlap query with the geometry in the body."""

    intersects: dict[str, Any] | str | None = Field(None, description="a GeoJSON geometry or WKT")
    bbox: list[float] | None = Field(None, description="[west, south, east, north]", min_length=4, max_length=4)
    limit: int | None = Field(None, ge=1)
    cursor: str | None = None


UPLOAD_BODY: dict[str, type[BaseModel] | dict[str, Any]] = {
    "multipart/form-data": AoiUploadForm,
    "application/json": AoiJsonBody,
    "text/plain": {"type": "string", "description": "WKT, EWKT, GeoJSON, KML, GML or CSV text"},
    "application/octet-stream": {"type": "string", "format": "binary",
                                 "description": "a zip (Shapefile), KMZ, GeoPackage, FlatGeobuf or SpatiaLite file"},
}
