from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from shared.contracts.base import Message, contract


@contract("aoi.registered.v1", topic="aoi.aoi.events", key="aoi_id")
class AoiRegistered(Message):
    """A validated AOI was stored. The geometry stays in the AOI service (served by id)."""

    aoi_id: str
    account_id: str
    name: str | None = None
    part_areas_km2: list[Decimal]
    billable_areas_km2: list[Decimal]
    total_area_km2: Decimal
    bbox: list[float]  # [min lon, min lat, max lon, max lat]
    h3_resolution: int
    h3_cells: list[str]  # compacted H3 cover (summary for indexes elsewhere)
    registered_at: datetime
    total_billable_km2: Decimal | None = None  # sum of billable_areas_km2 (each part at least 0.5 km²)
    source_format: str | None = None  # detected input format, e.g. "geojson", "shapefile_zip"
