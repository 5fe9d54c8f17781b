from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from shared.contracts.base import Message, contract


@contract("aoi.registered.v1", topic="aoi.aoi.events", key="aoi_id")
class AoiRegistered(Message):
    """A validated AOI was stored: its areas, bounding box and H3 cover. The geometry stays in the aoi
    service and is served by id.

    Sent by the aoi service on `aoi.aoi.events` when `POST /v1/aois` stores an AOI.
    Consumed by no Tessera service today: peers read an AOI's facts over HTTP when they need them;
    the event is the feed for indexes and reports kept elsewhere.
    """

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
