"""Pure parts of the monthly renewal of recurring orders: the item a month is priced with, and the cells
a month reserves afresh."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.contracts.common import Cell
from shared.schedule import Month


def month_item(order: Mapping[str, Any], month: Month) -> dict[str, Any]:
    """The order's item restricted to one month: the window starts on its 1st, the cadence keeps its reference."""
    item = dict(order["item"])
    item["reference_date"] = item.get("reference_date") or item["from"]
    item["from"] = month.first_day.isoformat()
    return item


def fresh_cells(order: Mapping[str, Any]) -> list[Cell]:
    """The order's cells with nothing excluded yet (a new month is deduplicated afresh)."""
    return [Cell(guid=c["guid"], level=c["level"], area_km2=c["area_km2"]) for c in order["cells"]]
