"""AOI service domain, pure (no I/O): the import as one function (run in worker processes), the
upload and its options, the report shape and H3 index, overlap query planning, the list cursor."""

from shared.geo.h3index import (
    RESOLUTION,
    aoi_cells,
    h3_summary,
    intersects_exactly,
    may_intersect,
    query_cells,
    viewport_geometry,
)

from .imports import Prepared, prepare
from .paging import decode_cursor, encode_cursor
from .query import QueryError, QueryPlan, parse_bbox, parse_geometry, plan
from .report import aoi_report, public_report, registered_facts
from .upload import OPTIONS, Upload, aoi_problem, json_options, too_large, upload

__all__ = ["OPTIONS", "RESOLUTION", "Prepared", "QueryError", "QueryPlan", "Upload", "aoi_cells", "aoi_problem",
           "aoi_report", "decode_cursor", "encode_cursor", "h3_summary", "intersects_exactly", "json_options",
           "may_intersect", "parse_bbox", "parse_geometry", "plan", "prepare", "public_report", "query_cells",
           "registered_facts", "too_large", "upload", "viewport_geometry"]
