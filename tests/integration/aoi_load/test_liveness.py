"""The aoi service keeps answering /healthz within 1 s while it imports the largest legal AOI.

The service runs as a real process with the default limits; the upload is one MultiPolygon of
200,000 triangles (800,000 vertices) as a zipped shapefile, within every limit. While it is
imported, indexed and stored, /healthz is polled every 50 ms and every answer must come within
1 s. The figures asserted besides latency follow from the geometry: one part, 800,000 vertices.
"""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.support.big_aoi import TRIANGLES, VERTICES, triangles, zipped_shapefile
from tests.support.services import running

pytestmark = pytest.mark.integration

LIVENESS_SECONDS = 1.0


@pytest.fixture(scope="module")
def big_zip() -> bytes:
    return zipped_shapefile(triangles())


async def _poll_health(base_url: str, done: asyncio.Event) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as c:
        while not done.is_set():
            t0 = time.perf_counter()
            r = await c.get("/healthz")
            latencies.append(time.perf_counter() - t0)
            assert r.status_code == 200
            await asyncio.sleep(0.05)
    return latencies


async def test_healthz_answers_within_a_second_while_the_largest_legal_aoi_is_imported(
        database_url, kafka_bootstrap, big_zip):
    assert TRIANGLES == 200_000 and len(big_zip) < 20 * 1024 * 1024
    async with running("aoi", database_url, kafka_bootstrap) as aoi:
        done = asyncio.Event()
        poller = asyncio.create_task(_poll_health(aoi.base_url, done))
        try:
            r = await aoi.client.post("/v1/aois", headers=aoi.auth("acct-liveness"), timeout=300.0,
                                      files={"file": ("triangles.zip", big_zip, "application/zip")})
        finally:
            done.set()
        latencies = await poller
    assert r.status_code == 201, r.text[:500]
    body = r.json()
    assert body["source_format"] == "shapefile_zip"
    assert body["report"]["totals"]["parts"] == 1
    assert body["report"]["totals"]["vertex_count"] == VERTICES
    assert len(body["geometry"]["geometries"][0]["coordinates"]) == TRIANGLES
    assert len(latencies) >= 5, "the import was too quick to observe the loop meanwhile"
    assert max(latencies) < LIVENESS_SECONDS, f"slowest /healthz {max(latencies):.2f} s of {len(latencies)}"
