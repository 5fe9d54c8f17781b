"""Shared geometry library: import, normalise and validate areas of interest (AOIs).

Used by the AOI service for uploads and by tiling/pricing for inline WKT/GeoJSON AOIs. Pure:
no HTTP, database or broker imports. Entry points: :func:`import_aoi` (bytes or text) and
:func:`import_geometry` (a shapely geometry).
"""

from .aoi import ImportedAoi, PartReport, Totals, import_aoi, import_geometry
from .errors import ERROR_CODES, WARNING_CODES, AoiError
from .readers import Limits

__all__ = ["ERROR_CODES", "WARNING_CODES", "AoiError", "ImportedAoi", "Limits", "PartReport",
           "Totals", "import_aoi", "import_geometry"]
