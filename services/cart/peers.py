"""The cart's HTTP queries to its peers (docs/architecture.md, How services talk: only where an
interactive answer is needed), all through the shared clients (shared/peers.py), made as the caller
(their token):

- AOI: ``AoiClient.get`` (``GET {aoi_url}/v1/aois/{id}``) -> the AOI's facts.
- Tiling: ``TilingClient.resolve`` (``POST {tiling_url}/v1/tiles/resolve``) -> the selection's cells.
- Pricing: ``PricingClient.estimate`` (``POST {pricing_url}/v1/estimates``) -> the live estimate.

Adding or changing an item needs the AOI facts: an unreachable peer is a 503 and nothing changes.
The estimate is optional: when pricing does not answer, the cart is shown without it, with a note.
"""
from __future__ import annotations

import asyncio
from typing import Any, cast

from services.cart.domain import grid_facts, polygon_facts, union_footprint
from services.cart.settings import CartSettings
from shared.peers import AoiClient, PeerRefusal, PricingClient, TilingClient, tiling_bad_response
from shared.problems import Problem
from shared.service import Runtime
from shared.vocabulary import StoredOrderItem


def _settings(rt: Runtime) -> CartSettings:
    return cast(CartSettings, rt.settings)


def aoi_client(rt: Runtime) -> AoiClient:
    return AoiClient(rt.http, _settings(rt).aoi_url, _settings(rt).peer_timeout_seconds)


def tiling_client(rt: Runtime) -> TilingClient:
    return TilingClient(rt.http, _settings(rt).tiling_url, _settings(rt).peer_timeout_seconds)


def pricing_client(rt: Runtime) -> PricingClient:
    return PricingClient(rt.http, _settings(rt).pricing_url, _settings(rt).estimate_timeout_seconds)


async def grid_selection_facts(rt: Runtime, payload: StoredOrderItem, authorization: str | None) -> dict[str, Any]:
    """The facts of a grid selection: tiling's resolved cells and the union of their footprints."""
    selection = await tiling_client(rt).resolve([str(g) for g in payload.tile_guids or ()],
                                                [str(g) for g in payload.minitile_guids or ()], authorization)
    facts = grid_facts(selection)
    try:
        facts["footprint"] = await asyncio.to_thread(union_footprint, [c.footprint for c in selection.cells])
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise tiling_bad_response("the grid selection", exc) from None
    return facts


async def facts_of(rt: Runtime, payload: StoredOrderItem, authorization: str | None) -> dict[str, Any]:
    if payload.aoi_mode == "grid":
        return await grid_selection_facts(rt, payload, authorization)
    assert payload.aoi_id is not None
    return polygon_facts(await aoi_client(rt).get(payload.aoi_id, authorization))


PRICING_DOWN = ("Pricing is unavailable right now, so this cart has no estimate; the items are kept and "
                "the estimate will show again when pricing answers.")


async def live_estimate(rt: Runtime, items: list[dict[str, Any]],
                        authorization: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """(estimate, None) or (None, a sentence saying why there is none)."""
    if not items:
        return None, "The cart is empty: add an item to see an estimate."
    try:
        return await pricing_client(rt).estimate(items, authorization), None
    except PeerRefusal as refused:
        return None, f"Pricing could not price this cart ({refused.peer_status}): {refused.peer_detail}"
    except Problem:
        return None, PRICING_DOWN
