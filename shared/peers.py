"""Typed clients of the services' HTTP APIs, for the few places where one service needs an interactive
answer from another (docs/architecture.md, How services talk). One client per peer, one mapping of
its failures to Problems, so every caller of a peer answers its failures alike:

    AoiClient      GET  /v1/aois/{id}          -> StoredAoi          (tiling, pricing, cart)
    TilingClient   POST /v1/tiles/resolve      -> ResolvedSelection  (cart)
                   POST /v1/coverage/preview   -> CoveragePreview    (pricing)
    PricingClient  POST /v1/estimates          -> the estimate body  (cart)

- the peer does not know or refuses what we asked: a 422 naming the caller's field (AOI: 404/410,
  "upload it first"; tiling: a 4xx other than 401/403/408/429; pricing: any 4xx). Tiling's and
  pricing's refusals are a ``PeerRefusal``, which keeps the peer's own status and detail;
- the peer is unreachable, times out or answers 5xx (the AOI service: any other 4xx too; tiling:
  401/403/408/429 too, which are about us rather than the request): a 503, nothing changed;
- the peer answers 2xx with a body we cannot use: a 502 naming what is missing.

A caller for whom the answer is optional (pricing's deduplication, the cart's live estimate) catches
the Problem and goes on without it. Calls are made as the caller (their `Authorization` header), so a
peer's own access rules hold; each client is built with the calling service's timeout for that peer.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from shared.problems import Problem

log = logging.getLogger("tessera.peers")

_KM2_PLACES = Decimal("0.000001")  # 1 m²
# statuses about us (our token, our rate, our slowness) rather than what we asked: tiling is then as
# good as unavailable, and a retry may succeed
_ABOUT_US = (401, 403, 408, 429)


def km2(value: Any) -> Decimal:
    """An area as sent in JSON (number or string) as km² with at most 6 decimals (1 m²)."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value)).quantize(_KM2_PLACES).normalize() + Decimal(0)


def _auth(authorization: str | None) -> dict[str, str]:
    return {"Authorization": authorization} if authorization else {}


def peer_detail(response: httpx.Response) -> tuple[str, list[dict[str, Any]] | None]:
    """A peer's refusal in a few words (its problem's detail, else the start of its body), and its
    ``errors`` when it sent a list of them."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300], None
    if isinstance(body, dict):
        errors = body.get("errors") if isinstance(body.get("errors"), list) else None
        return str(body.get("detail") or body.get("title") or body)[:500], errors
    return str(body)[:300], None


class PeerRefusal(Problem):
    """A 422: the peer refused what we asked (a 4xx about the request). Its status and detail are kept
    for callers that put the refusal in their own words."""

    def __init__(self, code: str, detail: str, *, peer_status: int, peer_detail: str,
                 errors: list[dict[str, Any]]) -> None:
        super().__init__(422, code, detail, errors=errors)
        self.peer_status, self.peer_detail = peer_status, peer_detail


# ------------------------------------------------------------------------------ aoi


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
            response = await self.http.get(url, headers=_auth(authorization), timeout=self.timeout)
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


# ------------------------------------------------------------------------------ tiling


@dataclass(frozen=True)
class ResolvedCell:
    """One cell of a resolved grid selection, its values as tiling sent them (area to the m²)."""

    guid: str
    level: str  # "tile" or "minitile"
    area_km2: Decimal
    code: Any = None
    zone: Any = None
    epsg: Any = None
    footprint: Any = field(default=None, repr=False)  # GeoJSON, when tiling sent one


@dataclass(frozen=True)
class ResolvedSelection:
    """Tiling's `POST /v1/tiles/resolve` answer: the cells (tiles first, then minitiles) and its warnings."""

    cells: tuple[ResolvedCell, ...]
    warnings: tuple[Any, ...] = ()


def parse_resolved_selection(body: Any) -> ResolvedSelection:
    """Tiling's `POST /v1/tiles/resolve` body as a ResolvedSelection; ValueError naming what is missing."""
    if not isinstance(body, dict):
        raise ValueError("the body is not a JSON object")
    cells = []
    for level, key in (("tile", "tiles"), ("minitile", "minitiles")):
        listed = body.get(key) or []
        if not isinstance(listed, list):
            raise ValueError(f"the tiling service's '{key}' is not a list")
        for cell in listed:
            if not isinstance(cell, dict) or "guid" not in cell or "area_km2" not in cell:
                raise ValueError(f"a resolved {level} lacks its guid or area_km2")
            try:
                area = km2(cell["area_km2"])
            except (InvalidOperation, TypeError, ValueError):
                raise ValueError(f"a resolved {level} has an area that is not a number") from None
            cells.append(ResolvedCell(str(cell["guid"]), level, area, cell.get("code"), cell.get("zone"),
                                      cell.get("epsg"), cell.get("footprint")))
    if not cells:
        raise ValueError("the tiling service resolved the selection to no cells")
    try:
        warnings = tuple(body.get("warnings") or ())
    except TypeError:
        raise ValueError("its warnings are not a list") from None
    return ResolvedSelection(tuple(cells), warnings)


@dataclass(frozen=True)
class CoveragePreview:
    """Tiling's `POST /v1/coverage/preview` answer: per cell (its GUID, lower case) the asked dates the
    account already owns, and tiling's warnings as sentences."""

    owned: dict[str, frozenset[date]]
    warnings: tuple[str, ...] = ()


def parse_coverage_preview(body: Any, dates: Sequence[date]) -> CoveragePreview:
    """The preview body, only the asked `dates` kept; ValueError naming what is unusable."""
    try:
        wanted = set(dates)
        owned: dict[str, frozenset[date]] = {}
        for entry in body.get("owned", []):
            guid = str(UUID(str(entry["guid"])))
            owned[guid] = frozenset(d for d in (date.fromisoformat(x) for x in entry["dates"]) if d in wanted)
        warnings = tuple(str(w if not isinstance(w, dict) else w.get("message", w))
                         for w in body.get("warnings", []))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None
    return CoveragePreview(owned, warnings)


def tiling_bad_response(what: str, exc: object) -> Problem:
    """The 502 for a tiling answer that cannot be used (also for what a caller derives from it)."""
    log.warning("unusable tiling body for %s: %r", what, exc)
    return Problem(502, "tiling_service_bad_response", f"the tiling service's answer for {what} is unusable: {exc}")


class TilingClient:
    """The tiling service, as seen by the cart (resolve a grid selection) and pricing (coverage preview)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout: float) -> None:
        self.http, self.base_url, self.timeout = http, base_url.rstrip("/"), timeout

    async def resolve(self, tile_guids: Sequence[str], minitile_guids: Sequence[str],
                      authorization: str | None) -> ResolvedSelection:
        """The selection's cells; 422 ``invalid_grid_selection`` (a PeerRefusal) when tiling refuses a GUID,
        503 ``tiling_service_unavailable``, 502 ``tiling_service_bad_response``."""
        body = {"tile_guids": list(tile_guids), "minitile_guids": list(minitile_guids)}
        what = "the grid selection"
        try:
            response = await self.http.post(f"{self.base_url}/v1/tiles/resolve", json=body,
                                            headers=_auth(authorization), timeout=self.timeout)
        except httpx.HTTPError as exc:
            log.warning("tiling service unreachable: %r", exc)
            raise _tiling_unavailable("did not answer while resolving the grid selection") from None
        if 400 <= response.status_code < 500 and response.status_code not in _ABOUT_US:
            detail, errors = peer_detail(response)
            raise PeerRefusal("invalid_grid_selection", f"the grid selection cannot be resolved: {detail}",
                              peer_status=response.status_code, peer_detail=detail,
                              errors=errors or [{"field": "tile_guids" if tile_guids else "minitile_guids",
                                                 "message": detail}])
        if response.status_code >= 400:
            detail, _ = peer_detail(response)
            raise _tiling_unavailable(f"answered {response.status_code} ({detail})")
        try:
            return parse_resolved_selection(response.json())
        except ValueError as exc:
            raise tiling_bad_response(what, exc) from None

    async def coverage_preview(self, model: str, constellations: Sequence[str], cells: Sequence[str],
                               dates: Sequence[date], authorization: str | None) -> CoveragePreview:
        """Which of the (cell, date) pairs the caller's account already owns; the Problems of ``resolve``
        (422 ``invalid_coverage_preview`` for a refusal). The whole exchange, not each read of it, has
        the client's timeout: callers use it where the answer is optional and must not hold them up."""
        body = {"model": model, "constellations": list(constellations), "cells": list(cells),
                "dates": [d.isoformat() for d in dates]}
        try:
            response = await asyncio.wait_for(
                self.http.post(f"{self.base_url}/v1/coverage/preview", json=body, headers=_auth(authorization),
                               timeout=self.timeout), self.timeout)
        except (TimeoutError, httpx.HTTPError) as exc:
            log.warning("tiling service unreachable for the coverage preview: %r", exc)
            raise _tiling_unavailable(f"did not answer the coverage preview within {self.timeout}s") from None
        if 400 <= response.status_code < 500 and response.status_code not in _ABOUT_US:
            detail, errors = peer_detail(response)
            raise PeerRefusal("invalid_coverage_preview", f"the coverage preview was refused: {detail}",
                              peer_status=response.status_code, peer_detail=detail,
                              errors=errors or [{"field": "cells", "message": detail}])
        if response.status_code >= 400:
            detail, _ = peer_detail(response)
            raise _tiling_unavailable(f"answered {response.status_code} ({detail})")
        try:
            return parse_coverage_preview(response.json(), dates)
        except ValueError as exc:
            raise tiling_bad_response("the coverage preview", exc) from None


def _tiling_unavailable(what: str) -> Problem:
    return Problem(503, "tiling_service_unavailable",
                   f"the tiling service {what}; nothing was changed, try again shortly")


# ------------------------------------------------------------------------------ pricing


class PricingClient:
    """The pricing service, as seen by the cart (its live estimate)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, timeout: float) -> None:
        self.http, self.base_url, self.timeout = http, base_url.rstrip("/"), timeout

    async def estimate(self, items: Sequence[dict[str, Any]], authorization: str | None) -> dict[str, Any]:
        """Pricing's estimate of the order items (its JSON object, as pricing answers it); 422
        ``estimate_refused`` (a PeerRefusal) for any 4xx, 503 ``pricing_service_unavailable``, 502
        ``pricing_service_bad_response``."""
        try:
            response = await self.http.post(f"{self.base_url}/v1/estimates", json={"items": list(items)},
                                            headers=_auth(authorization), timeout=self.timeout)
        except httpx.TimeoutException:
            log.warning("pricing timed out after %ss", self.timeout)
            raise _pricing_unavailable(f"did not answer within {self.timeout}s") from None
        except httpx.HTTPError as exc:
            log.warning("pricing unreachable: %r", exc)
            raise _pricing_unavailable("did not answer") from None
        if response.status_code >= 500:
            raise _pricing_unavailable(f"answered {response.status_code}")
        if response.status_code >= 400:
            detail, errors = peer_detail(response)
            raise PeerRefusal("estimate_refused", f"pricing could not price the items: {detail}",
                              peer_status=response.status_code, peer_detail=detail,
                              errors=errors or [{"field": "items", "message": detail}])
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            log.warning("unusable pricing body: %r", response.text[:300])
            raise Problem(502, "pricing_service_bad_response", "the pricing service's estimate is not a JSON object")
        return body


def _pricing_unavailable(what: str) -> Problem:
    return Problem(503, "pricing_service_unavailable",
                   f"the pricing service {what} while estimating; try again shortly")
