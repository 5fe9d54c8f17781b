"""The AOI report the service stores, returns and publishes (JSON-ready dicts)."""

from __future__ import annotations

from typing import Any

from shared.geo import ImportedAoi

from .h3index import h3_summary


def aoi_report(aoi: ImportedAoi) -> dict[str, Any]:
    """``{source_format, parts: [...], totals: {...}, warnings: [...], h3: {...}}``.

    Each part: ``index, kind, area_km2, billable_km2, bbox [w, s, e, n], bbox_width_m,
    bbox_height_m, fill_ratio, vertex_count, crosses_antimeridian``. Totals: ``parts,
    area_km2, billable_km2, vertex_count, bbox``. Warnings: ``{code, message, ...details}``.
    H3: ``{resolution, cells (compacted), cell_count}``.
    """
    report = aoi.report()
    report["h3"] = h3_summary(aoi.geometry)
    return report


def registered_facts(aoi: ImportedAoi) -> dict[str, Any]:
    """The facts ``AoiRegistered`` carries (the geometry itself stays in the service)."""
    return {
        "part_areas_km2": [p.area_km2 for p in aoi.parts],
        "billable_km2": aoi.totals.billable_km2,
        "bbox": aoi.totals.bbox,
        "h3": h3_summary(aoi.geometry),
    }
