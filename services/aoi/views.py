"""Response shapes of the aoi service: the AOI with its geometry, the list summary, pages.

The geometry is served as the GeoJSON text the service stored (or just computed), embedded with
``orjson.Fragment``: never parsed into Python objects and dumped again.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.responses import Response

from services.aoi.domain import Prepared, Upload, encode_cursor


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
