"""Typed clients of the services' HTTP APIs, for the few places where one service needs an interactive
answer from another (docs/architecture.md, How services talk). One client per peer, one mapping of
its failures to what our own caller sees:

- the peer does not know the thing (404/410): a 422 naming the caller's field ("upload it first");
- the peer is unreachable, times out or answers 5xx (or 401/403/429 about us): a 503, nothing changed;
- the peer answers 2xx with a body we cannot use: a 502 naming what is missing.

Calls are made as the caller (their `Authorization` header), so a peer's own access rules hold.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx

from shared.problems import Problem

log = logging.getLogger("tessera.peers")

_KM2_PLACES = Decimal("0.000001")  # 1 m²


def km2(value: Any) -> Decimal:
    """An area as sent in JSON (number or string) as km² with at most 6 decimals (1 m²)."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value)).quantize(_KM2_PLACES).normalize() + Decimal(0)


@dataclass(frozen=True)
class AoiPart:
    """One polygon of a stored AOI: its label (the same everywhere: "Polygon 1", "Polygon 2", ...)."""

    index: int
    label: str
    area_km2: Decimal
    billable_km2: Decimal | None = None


@dataclass(frozen=True)
class StoredAoi:
    """What a service needs of a stored AOI: its parts, totals and geometry (GeoJSON)."""

    aoi_id: str
    parts: tuple[AoiPart, ...]
    geometry: dict[str, Any] | None
    totals: dict[str, Any] | None = None
    body: dict[str, Any] = field(default_factory=dict, repr=False)


def parse_stored_aoi(aoi_id: str, body: Any) -> StoredAoi:
    """The AOI service's `GET /v1/aois/{id}` body as a StoredAoi; ValueError naming what is missing."""
    if not isinstance(body, dict):
        raise ValueError("the body is not a JSON object")
    nested = body.get("report")
    report: dict[str, Any] = nested if isinstance(nested, dict) else body
    raw_parts = report.get("parts")
    if not isinstance(raw_parts, list) or not raw_parts:
        raise ValueError("it has no parts")
    parts = []
    for i, part in enumerate(raw_parts, start=1):
        if not isinstance(part, dict) or "area_km2" not in part:
            raise ValueError(f"part {i} has no area_km2")
        index = int(part.get("index", i))
        try:
            billable = part.get("billable_km2")
            parts.append(AoiPart(index, f"{part.get('kind') or 'Polygon'} {index}", km2(part["area_km2"]),
                                 km2(billable) if billable is not None else None))
        except (InvalidOperation, TypeError, ValueError):
            raise ValueError(f"part {i} has an area that is not a number") from None
    geometry = body.get("geometry")
    totals = report.get("totals")
    return StoredAoi(aoi_id, tuple(parts), geometry if isinstance(geometry, dict) else None,
                     totals if isinstance(totals, dict) else None, body)


class AoiClient:
    """The AOI service, as seen by tiling, pricing and cart."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout: float) -> None:
        self.http, self.base_url, self.timeout = http, base_url.rstrip("/"), timeout

    async def get(self, aoi_id: str, authorization: str | None, *, field_name: str = "aoi_id") -> StoredAoi:
        """The stored AOI, read as the caller; Problem 422 (unknown), 503 (unavailable) or 502 (unusable)."""
        url = f"{self.base_url}/v1/aois/{quote(aoi_id, safe='')}"
        try:
            response = await self.http.get(url, headers={"Authorization": authorization} if authorization else {},
                                           timeout=self.timeout)
        except httpx.HTTPError as exc:
            log.warning("AOI service unreachable for %s: %r", aoi_id, exc)
            raise unavailable(aoi_id, "did not answer") from None
        if response.status_code in (404, 410):
            message = (f"AOI {aoi_id} not found (it does not exist or belongs to another account); "
                       "upload it first")
            raise Problem(422, "unknown_aoi", f"{field_name}: {message}",
                          errors=[{"field": field_name, "message": message}])
        if response.status_code >= 400:
            raise unavailable(aoi_id, f"answered {response.status_code}")
        try:
            return parse_stored_aoi(aoi_id, response.json())
        except ValueError as exc:
            log.warning("unusable AOI body for %s: %r", aoi_id, exc)
            raise Problem(502, "aoi_service_bad_response",
                          f"the AOI service's answer for AOI {aoi_id} is unusable: {exc}") from None


def unavailable(aoi_id: str, what: str) -> Problem:
    problem = Problem(503, "aoi_service_unavailable",
                      f"the AOI service {what} while reading AOI {aoi_id}; nothing was changed, try again shortly")
    return problem
