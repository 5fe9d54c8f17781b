"""The CPU-heavy part of an AOI import as one pure function: decode, validate, the H3 cover and the
GeoJSON text. The service runs it on the event loop for small inputs and in its import worker
processes for the rest (the pool is in services/aoi/usecases.py).

What crosses back from a worker are plain values: the geometry as WKB and as the GeoJSON text the
service stores and serves, never as shapely objects (no per-vertex pickling).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely

from shared.geo import Limits, import_aoi

from .report import aoi_report, registered_facts


@dataclass(frozen=True)
class Prepared:
    """An imported AOI as plain values: what the service stores, publishes and answers."""

    source_format: str
    report: dict[str, Any]  # {source_format, parts, totals, warnings} (+ h3 when indexed)
    geometry_json: str  # the GeoJSON GeometryCollection, as text
    wkb: bytes
    area_km2: float
    billable_km2: float
    bbox: list[float]
    facts: dict[str, Any] | None  # AoiRegistered's facts when indexed


def prepare(data: bytes, *, filename: str | None, content_type: str | None, repair: bool, dissolve: bool,
            limits: Limits, index: bool, drop_failing: bool = False) -> Prepared:
    """Import ``data``; with ``index`` also the H3 cover and the event's facts. Raises AoiError."""
    aoi = import_aoi(data, filename=filename, content_type=content_type, repair=repair, dissolve=dissolve,
                     drop_failing=drop_failing, limits=limits)
    report = aoi_report(aoi) if index else aoi.report()
    return Prepared(
        source_format=aoi.source_format,
        report=report,
        geometry_json=shapely.to_geojson(aoi.geometry),
        wkb=shapely.to_wkb(aoi.geometry),
        area_km2=aoi.totals.area_km2,
        billable_km2=aoi.totals.billable_km2,
        bbox=[float(v) for v in aoi.totals.bbox],
        facts=registered_facts(aoi, report["h3"]) if index else None,
    )


def run_job(job: dict[str, Any]) -> Prepared:
    """``prepare`` with its arguments as one dict: what a worker process is sent."""
    return prepare(**job)


def warm() -> None:
    """Run once in each worker when it starts: importing this module already loaded shapely, h3 and
    the readers, so the first real job does not pay for them."""
