"""The H3 index lives in shared/geo/h3index.py (checkout's order overlay uses it too); re-exported here."""
from shared.geo.h3index import *  # noqa: F401,F403
from shared.geo.h3index import RESOLUTION, aoi_cells, h3_summary, intersects_exactly, may_intersect, query_cells, viewport_geometry  # noqa: F401
