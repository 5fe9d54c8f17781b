"""The AOI report the service stores, returns and publishes (JSON-ready dicts)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared.geo import ImportedAoi
from shared.geo.h3index import h3_summary


def aoi_report(aoi: ImportedAoi, h3: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{source_format, parts: [...], totals: {...}, warnings: [...], h3: {...}}``.

    Each part: ``index, kind, area_km2, billable_km2, bbox [w, s, e, n], bbox_width_m,
    bbox_height_m, fill_ratio, vertex_count, crosses_antimeridian``. Totals: ``parts,
    area_km2, billable_km2, vertex_count, bbox``. Warnings: ``{code, message, ...details}``.
    H3: ``{resolution, cells (compacted), cell_count}``.
    """
    report = aoi.report()
    report["h3"] = h3 if h3 is not None else h3_summary(aoi.geometry)
    return report


def _km2(x: float) -> Decimal:
    """An area as a Decimal with 6 decimals (1 m² resolution), for the event contract."""
    return Decimal(f"{x:.6f}")


def registered_facts(aoi: ImportedAoi, h3: dict[str, Any] | None = None) -> dict[str, Any]:
    """The facts ``AoiRegistered`` carries, keyed as the contract's fields (the geometry itself
    stays in the service): per-part geodesic and billable areas, the total geodesic area, the
    total billable area, the bbox and the compacted H3 cover (``h3``: a summary already computed)."""
    h3s = h3 if h3 is not None else h3_summary(aoi.geometry)
    return {
        "part_areas_km2": [_km2(p.area_km2) for p in aoi.parts],
        "billable_areas_km2": [_km2(p.billable_km2) for p in aoi.parts],
        "total_area_km2": _km2(aoi.totals.area_km2),
        "total_billable_km2": _km2(aoi.totals.billable_km2),
        "bbox": list(aoi.totals.bbox),
        "h3_resolution": h3s["resolution"],
        "h3_cells": h3s["cells"],
        "source_format": aoi.source_format,
    }


def public_report(report: dict[str, Any]) -> dict[str, Any]:
    """The report as stored and served: the H3 cover itself stays internal (it is in the index column)."""
    out = dict(report)
    h3s = out.get("h3")
    if isinstance(h3s, dict):
        out["h3"] = {"resolution": h3s.get("resolution"), "cell_count": h3s.get("cell_count")}
    return out
