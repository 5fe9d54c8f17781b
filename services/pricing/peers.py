"""Pricing's HTTP queries to its peers (docs/architecture.md, How services talk: only where an
interactive answer is needed), through the shared clients (shared/peers.py), made as the caller
(their token):

- AOI: ``AoiClient.get`` (``GET {aoi_url}/v1/aois/{id}``) -> the stored AOI's parts (labelled
  "Polygon N" by the client). An unknown AOI is a 422 naming the field, an unreachable AOI service a
  503: the estimate cannot be made without the areas.
- Tiling: ``TilingClient.coverage_preview`` (``POST {tiling_url}/v1/coverage/preview``) -> the
  (cell, date) pairs the account already owns. Optional: within ``dedup_timeout_seconds`` or not at
  all (the estimate then prices every pair and says so).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

import httpx

from services.pricing.domain import PolygonPart, PricedCell
from services.pricing.settings import PricingSettings
from shared.peers import AoiClient, TilingClient
from shared.problems import Problem
from shared.vocabulary import OrderItem

log = logging.getLogger("tessera.pricing.peers")


async def stored_aoi_parts(
    http: httpx.AsyncClient, settings: PricingSettings, aoi_id: str, authorization: str | None, field_name: str
) -> list[PolygonPart]:
    """The parts of a stored AOI, read from the AOI service as the caller; a Problem when it cannot be read."""
    stored = await AoiClient(http, settings.aoi_url, settings.aoi_timeout_seconds).get(
        aoi_id, authorization, field_name=field_name)
    return [PolygonPart(p.label, p.area_km2) for p in stored.parts]


async def owned_pairs(
    http: httpx.AsyncClient,
    settings: PricingSettings,
    payload: OrderItem,
    cells: Sequence[PricedCell],
    dates: list[date],
    authorization: str | None,
) -> tuple[dict[str, frozenset[date]] | None, list[str]]:
    """Which (cell, date) pairs of the item the caller's account already owns, and tiling's warnings;
    ``(None, [])`` when tiling does not answer within ``dedup_timeout_seconds`` or answers anything
    but a usable preview."""
    tiling = TilingClient(http, settings.tiling_url, settings.dedup_timeout_seconds)
    try:
        preview = await tiling.coverage_preview(payload.model.value, [c.value for c in payload.constellations],
                                                [c.key for c in cells], dates, authorization)
    except Problem as exc:
        log.warning("coverage preview unavailable: %s", exc.detail)
        return None, []
    return dict(preview.owned), list(preview.warnings)
