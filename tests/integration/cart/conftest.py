"""The cart service (and the real pricing service, for the live estimate) as real processes, against
the real Postgres and Kafka, with small in-process fakes of the peers not written yet.

The AOI service's ``GET /v1/aois/{id}`` and the tiling service's ``POST /v1/tiles/resolve`` are
not implemented in services/aoi and services/tiling at the time of writing, so ``FakePeers``
(uvicorn in a thread, on a free port) answers them: AOIs from ``aois``; grid selections decoded
with ``shared.grid`` (the same pure grid math tiling uses). Cart and pricing both reach the fake
through CART_AOI_URL / CART_TILING_URL / PRICING_AOI_URL / PRICING_TILING_URL.
"""
from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.envelope import Envelope, decode_headers, kafka_headers
from shared.grid import GridError, decode_guid, describe
from tests.support.services import running

pytestmark = pytest.mark.integration

ALL_THREE = ["Sentinel1", "Sentinel2", "Landsat89"]


class FakePeers:
    def __init__(self) -> None:
        self.aois: dict[str, dict[str, Any]] = {}  # aoi id -> GET body
        self.aoi_delay = 0.0
        self.tiling_status: int | None = None  # answer this status instead of resolving
        self.seen: list[tuple[str, str | None]] = []  # (path, authorization)
        app = FastAPI()

        @app.get("/v1/aois/{aoi_id}")
        async def aoi(aoi_id: str, request: Request):
            self.seen.append((request.url.path, request.headers.get("authorization")))
            if self.aoi_delay:
                await asyncio.sleep(self.aoi_delay)
            if aoi_id not in self.aois:
                return JSONResponse({"code": "not_found", "detail": f"aoi {aoi_id} does not exist"}, status_code=404)
            return self.aois[aoi_id]

        @app.post("/v1/tiles/resolve")
        async def resolve(request: Request):
            body = await request.json()
            self.seen.append((request.url.path, request.headers.get("authorization")))
            if self.tiling_status is not None:
                return JSONResponse({"code": "boom", "detail": "fake failure"}, status_code=self.tiling_status)
            out: dict[str, list] = {"tiles": [], "minitiles": [], "warnings": []}
            for key, level in (("tile_guids", "tiles"), ("minitile_guids", "minitiles")):
                for i, guid in enumerate(body.get(key) or []):
                    try:
                        cell = describe(decode_guid(guid))
                    except GridError as exc:
                        return JSONResponse({"code": "invalid_selection", "detail": exc.message,
                                             "errors": [{"field": f"{key}.{i}", "message": exc.message}]},
                                            status_code=422)
                    out[level].append(cell.as_dict())
            return out

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def add_aoi(self, aoi_id: str, areas_km2: list[float]) -> None:
        """A stored AOI of square-ish parts with these geodesic areas."""
        geometries = [{"type": "Polygon", "coordinates": [[[i, 0], [i + 0.03, 0], [i + 0.03, 0.03], [i, 0.03], [i, 0]]]}
                      for i in range(len(areas_km2))]
        self.aois[aoi_id] = {
            "id": aoi_id,
            "geometry": {"type": "GeometryCollection", "geometries": geometries},
            "report": {"parts": [{"index": i + 1, "kind": "Polygon", "area_km2": a, "billable_km2": max(a, 0.5)}
                                 for i, a in enumerate(areas_km2)],
                       "totals": {"area_km2": sum(areas_km2), "billable_km2": sum(max(a, 0.5) for a in areas_km2)}},
        }

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture(scope="package")
def peers():
    fake = FakePeers()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="package")
async def services(database_url, kafka_bootstrap, peers):
    env = {"CART_AOI_URL": peers.url, "CART_TILING_URL": peers.url, "PRICING_AOI_URL": peers.url,
           "PRICING_TILING_URL": peers.url, "CART_PEER_TIMEOUT_SECONDS": "1", "CART_OUTBOX_POLL_SECONDS": "0.2",
           "PRICING_OUTBOX_POLL_SECONDS": "0.2"}
    async with running(["cart", "pricing"], database_url, kafka_bootstrap, extra_env=env) as procs:
        yield procs


@pytest.fixture
def cart(services):
    return services["cart"]


# ------------------------------------------------------------------------------ Kafka helpers


async def send_commands(bootstrap: str, messages: list, *, ids: list[uuid.UUID] | None = None) -> list[uuid.UUID]:
    """Publish saga commands as the checkout service would (key = cart id); ``ids`` reuses event ids."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    sent = []
    try:
        for i, msg in enumerate(messages):
            env = Envelope(type=msg.TYPE, source="/services/checkout", subject=msg.aggregate_id,
                           **({"id": ids[i]} if ids else {}))
            await producer.send_and_wait(msg.TOPIC, msg.model_dump_json().encode(), key=msg.aggregate_id.encode(),
                                         headers=kafka_headers(env.headers()))
            sent.append(env.id)
    finally:
        await producer.stop()
    return sent


async def events_of(bootstrap: str, key: str, *, topic: str = "cart.cart.events",
                    until: Callable[[list[tuple[str, dict]]], bool] = lambda evs: bool(evs),
                    timeout: float = 30.0, settle: float = 0.0) -> list[tuple[str, dict]]:
    """(ce_type, body) of the records of ``topic`` keyed ``key``, in order, from the beginning;
    reads until ``until(events)`` holds (then ``settle`` more seconds) or ``timeout``."""
    import json

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
