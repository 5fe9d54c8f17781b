"""Pricing's HTTP queries to its peers (docs/architecture.md, How services talk: only where an
interactive answer is needed), both made as the caller (their token):

- AOI: ``GET {aoi_url}/v1/aois/{id}`` through ``shared.peers.AoiClient`` -> the stored AOI's parts
  (labelled "Polygon N" by the client). An unknown AOI is a 422 naming the field, an unreachable
  AOI service a 503: the estimate cannot be made without the areas.
- Tiling: ``POST {tiling_url}/v1/coverage/preview`` -> the (cell, date) pairs the account already
  owns. Optional: within ``dedup_timeout_seconds`` or not at all (the estimate then prices every
  pair and says so).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import httpx

from services.pricing.domain import PolygonPart, PricedCell
from services.pricing.settings import PricingSettings
from shared.peers import AoiClient
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
    tiling_url: str,
    payload: OrderItem,
    cells: Sequence[PricedCell],
    dates: list[date],
    authorization: str | None,
    timeout: float,
) -> tuple[dict[str, frozenset[date]] | None, list[str]]:
    """Ask tiling which (cell, date) pairs the caller's account already owns.

    Request ``POST {tiling_url}/v1/coverage/preview``::

        {"model": "Stratus2", "constellations": ["Sentinel1", ...],
         "cells": ["<guid>", ...], "dates": ["2025-04-01", ...]}

    Response ``{"owned": [{"guid": "<guid>", "dates": ["2025-04-01", ...]}, ...], "warnings": [..]}``
    (``warnings`` optional). Returns ``(None, [])`` when tiling does not answer in ``timeout`` or
    answers something unusable.
    """
    body: dict[str, Any] = {
        "model": payload.model.value,
        "constellations": [c.value for c in payload.constellations],
        "cells": [c.key for c in cells],
        "dates": [d.isoformat() for d in dates],
    }
    headers = {"Authorization": authorization} if authorization else {}
    url = f"{tiling_url.rstrip('/')}/v1/coverage/preview"
    try:
        response = await asyncio.wait_for(http.post(url, json=body, headers=headers, timeout=timeout), timeout)
        response.raise_for_status()
        data = response.json()
        wanted = set(dates)
        owned: dict[str, frozenset[date]] = {}
        for entry in data.get("owned", []):
            guid = str(UUID(str(entry["guid"])))
            owned[guid] = frozenset(d for d in (date.fromisoformat(x) for x in entry["dates"]) if d in wanted)
        warnings = [str(w if not isinstance(w, dict) else w.get("message", w)) for w in data.get("warnings", [])]
        return owned, warnings
    except (TimeoutError, httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("coverage preview unavailable: %r", exc)
        return None, []
