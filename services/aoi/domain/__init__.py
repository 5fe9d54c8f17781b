"""AOI service domain: pure report shape and H3 index (no I/O)."""

from shared.geo.h3index import (
    RESOLUTION,
    aoi_cells,
    h3_summary,
    intersects_exactly,
    may_intersect,
    query_cells,
    viewport_geometry,
)

from .report import aoi_report, registered_facts

__all__ = ["RESOLUTION", "aoi_cells", "aoi_report", "h3_summary", "intersects_exactly",
           "may_intersect", "query_cells", "registered_facts", "viewport_geometry"]
