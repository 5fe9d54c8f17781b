"""The cart service as a real process with its real peers (AOI, tiling, pricing, each its own
process) against the real Postgres and Kafka; every peer URL points at the test ports.
"""
from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.envelope import decode_headers
from tests.support.kafka import send_messages
from tests.support.services import running

pytestmark = pytest.mark.integration

ALL_THREE = ["Sentinel1", "Sentinel2", "Landsat89"]


@pytest.fixture(scope="package")
async def services(database_url, kafka_bootstrap):
    env = {"CART_OUTBOX_POLL_SECONDS": "0.2", "PRICING_OUTBOX_POLL_SECONDS": "0.2", "AOI_OUTBOX_POLL_SECONDS": "0.2",
           "TILING_OUTBOX_POLL_SECONDS": "0.2"}
    async with running(["cart", "pricing", "aoi", "tiling"], database_url, kafka_bootstrap, extra_env=env) as procs:
        yield procs


@pytest.fixture
def cart(services):
    return services["cart"]


def square_wkt(lon: float, lat: float, side_deg: float) -> str:
    x2, y2 = lon + side_deg, lat + side_deg
    return f"POLYGON(({lon} {lat},{x2} {lat},{x2} {y2},{lon} {y2},{lon} {lat}))"


async def upload_aoi(services, account: str, wkt: str) -> dict:
    """Store an AOI through the AOI service, as the dashboard uploads a file."""
    aoi = services["aoi"]
    r = await aoi.client.post("/v1/aois", files={"file": ("aoi.wkt", wkt.encode(), "text/plain")},
                              headers=aoi.auth(account))
    assert r.status_code == 201, r.text
    return r.json()


# ------------------------------------------------------------------------------ Kafka helpers


async def send_commands(bootstrap: str, messages: list, *, ids: list[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Publish saga commands as the checkout service would (key = cart id); ``ids`` reuses event ids."""
    return await send_messages(bootstrap, messages, ids=ids)

async def events_of(bootstrap: str, key: str, *, topic: str = "cart.cart.events",
                    until: Callable[[list[tuple[str, dict]]], bool] = lambda evs: bool(evs),
                    timeout: float = 30.0, settle: float = 0.0) -> list[tuple[str, dict]]:
    """(ce_type, body) of the records of ``topic`` keyed ``key``, in order, from the beginning;
    reads until ``until(events)`` holds (then ``settle`` more seconds) or ``timeout``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    events: list[tuple[str, dict]] = []
    try:
        parts: set[int] = set()
        for _ in range(100):
            parts = (await consumer._client.fetch_all_metadata()).partitions_for_topic(topic) or set()
            if parts:
                break
            await asyncio.sleep(0.1)
        consumer.assign([TopicPartition(topic, p) for p in sorted(parts)])
        await consumer.seek_to_beginning()
        deadline = time.monotonic() + timeout
        satisfied_at: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    if r.key is not None and r.key.decode() == key:
                        events.append((decode_headers(r.headers)["ce_type"], json.loads(r.value)))
            if satisfied_at is None and until(events):
                satisfied_at = time.monotonic()
            if satisfied_at is not None and time.monotonic() - satisfied_at >= settle:
                break
    finally:
        await consumer.stop()
    return events


def types(events: list[tuple[str, dict]]) -> list[str]:
    return [t for t, _ in events]
