"""The cart's HTTP queries to its peers (docs/architecture.md, How services talk:
only where an interactive answer is needed).

- AOI: ``GET {aoi_url}/v1/aois/{id}`` as the caller (their token), with ``shared.peers.AoiClient``
  (the AOI service's failures answered as in every service) -> the AOI's facts.
- Tiling: ``POST {tiling_url}/v1/tiles/resolve`` ``{"tile_guids", "minitile_guids"}`` -> cells.
- Pricing: ``POST {pricing_url}/v1/estimates`` ``{"items": [...]}`` -> the live estimate.

Adding or changing an item needs the AOI facts: an unreachable peer is a 503 and nothing changes.
The estimate is optional: when pricing does not answer, the cart is shown without it, with a note.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from services.cart.domain import FactsError, grid_facts, polygon_facts, union_footprint
from shared.peers import AoiClient
from shared.problems import Problem
from shared.vocabulary import StoredOrderItem

log = logging.getLogger("tessera.cart.peers")


def _auth(authorization: str | None) -> dict[str, str]:
    return {"Authorization": authorization} if authorization else {}


def _problem_detail(response: httpx.Response) -> tuple[str, list[dict[str, Any]] | None]:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300], None
    if isinstance(body, dict):
        errors = body.get("errors") if isinstance(body.get("errors"), list) else None
        return str(body.get("detail") or body.get("title") or body)[:500], errors
    return str(body)[:300], None


def aoi_client(rt: Any) -> AoiClient:
    s = rt.settings
    return AoiClient(rt.http, s.aoi_url, s.peer_timeout_seconds)


async def grid_selection_facts(rt: Any, payload: StoredOrderItem, authorization: str | None) -> dict[str, Any]:
    s = rt.settings
    body = {"tile_guids": [str(g) for g in payload.tile_guids or ()],
            "minitile_guids": [str(g) for g in payload.minitile_guids or ()]}
    try:
        response = await rt.http.post(f"{s.tiling_url.rstrip('/')}/v1/tiles/resolve", json=body,
                                      headers=_auth(authorization), timeout=s.peer_timeout_seconds)
    except httpx.HTTPError as exc:
        log.warning("tiling service unreachable: %r", exc)
        raise Problem(503, "tiling_service_unavailable",
                      "the tiling service did not answer while resolving the grid selection; nothing was "
                      "changed, try again shortly") from None
    if 400 <= response.status_code < 500 and response.status_code not in (401, 403, 408, 429):
        detail, errors = _problem_detail(response)
        raise Problem(422, "invalid_grid_selection", f"the grid selection cannot be resolved: {detail}",
                      errors=errors or [{"field": "tile_guids" if payload.tile_guids else "minitile_guids",
                                         "message": detail}])
    if response.status_code >= 400:
        detail, _ = _problem_detail(response)
        raise Problem(503, "tiling_service_unavailable",
                      f"the tiling service answered {response.status_code} ({detail}); nothing was changed, "
                      "try again shortly")
    try:
        resolved = response.json()
        facts = grid_facts(resolved)
        footprints = [c.get("footprint") for key in ("tiles", "minitiles") for c in resolved.get(key) or ()]
        facts["footprint"] = await asyncio.to_thread(union_footprint, footprints)
        return facts
    except (ValueError, TypeError, KeyError, AttributeError, FactsError) as exc:
        log.warning("unusable tiling body: %r", exc)
        raise Problem(502, "tiling_service_bad_response",
                      f"the tiling service's answer for the grid selection is unusable: {exc}") from None


async def facts_of(rt: Any, payload: StoredOrderItem, authorization: str | None) -> dict[str, Any]:
    if payload.aoi_mode == "grid":
        return await grid_selection_facts(rt, payload, authorization)
    assert payload.aoi_id is not None
    return polygon_facts(await aoi_client(rt).get(payload.aoi_id, authorization))


PRICING_DOWN = ("Pricing is unavailable right now, so this cart has no estimate; the items are kept and "
                "the estimate will show again when pricing answers.")


async def live_estimate(rt: Any, items: list[dict[str, Any]],
                        authorization: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """(estimate, None) or (None, a sentence saying why there is none)."""
    if not items:
        return None, "The cart is empty: add an item to see an estimate."
    s = rt.settings
    try:
        response = await rt.http.post(f"{s.pricing_url.rstrip('/')}/v1/estimates", json={"items": items},
                                      headers=_auth(authorization), timeout=s.estimate_timeout_seconds)
    except httpx.TimeoutException:
        log.warning("pricing timed out after %ss", s.estimate_timeout_seconds)
        return None, PRICING_DOWN
    except httpx.HTTPError as exc:
        log.warning("pricing unreachable: %r", exc)
        return None, PRICING_DOWN
    if response.status_code >= 500:
        return None, PRICING_DOWN
    if response.status_code >= 400:
        detail, _ = _problem_detail(response)
        return None, f"Pricing could not price this cart ({response.status_code}): {detail}"
    try:
        return response.json(), None
    except ValueError:
        return None, PRICING_DOWN
