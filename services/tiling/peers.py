"""HTTP clients of other services: the AOI service, for the geometry of a stored AOI (search and
optimise by ``aoi_id``). Its failures are answered as every service answers them (shared/peers.py)."""
from __future__ import annotations

import logging
from typing import cast

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from services.tiling.settings import TilingSettings
from shared.peers import AoiClient
from shared.problems import Problem
from shared.service import Runtime

log = logging.getLogger("tessera.tiling.peers")


def aoi_client(rt: Runtime) -> AoiClient:
    s = cast(TilingSettings, rt.settings)
    return AoiClient(rt.http, s.aoi_url, s.aoi_timeout_seconds)


async def stored_aoi_geometry(rt: Runtime, aoi_id: str, authorization: str | None) -> BaseGeometry:
    """A stored AOI's geometry, read as the caller (their token); an AOI without a usable geometry is a
    502 like any other unusable answer of the AOI service."""
    aoi = await aoi_client(rt).get(aoi_id, authorization, field_name="aoi_id")
    try:
        return shape(aoi.geometry)
    except (ValueError, KeyError, TypeError, AttributeError, shapely.errors.GEOSException) as exc:
        log.warning("unexpected AOI geometry for %s: %r", aoi_id, exc)
        raise Problem(502, "aoi_service_bad_response",
                      f"the AOI service's answer for aoi_id {aoi_id} has no usable geometry") from None
