"""The pricing service as a real process, with a small fake of its HTTP peers (AOI and tiling).

The fake runs in this test process (uvicorn in a thread) so each test can tell it what to answer
and see what it was sent; the service reaches it through PRICING_AOI_URL / PRICING_TILING_URL.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.fake_http import ThreadedApp
from tests.support.services import running

pytestmark = pytest.mark.integration


class FakePeers(ThreadedApp):
    """AOI: GET /v1/aois/{id} answers the report stored in ``aois`` (404 otherwise).
    Tiling: POST /v1/coverage/preview answers ``owned`` after ``tiling_delay`` seconds."""

    def __init__(self) -> None:
        self.aois: dict[str, dict[str, Any]] = {}
        self.owned: dict[str, list[str]] = {}  # guid -> owned ISO dates
        self.tiling_delay = 0.0
        self.seen: list[tuple[str, str | None, Any]] = []  # (path, authorization, body)
        app = FastAPI()

        @app.get("/v1/aois/{aoi_id}")
        async def aoi(aoi_id: str, request: Request):
            self.seen.append((request.url.path, request.headers.get("authorization"), None))
            if aoi_id not in self.aois:
                return JSONResponse({"code": "not_found"}, status_code=404)
            return {"id": aoi_id, "report": self.aois[aoi_id]}

        @app.post("/v1/coverage/preview")
        async def preview(request: Request):
            body = await request.json()
            self.seen.append((request.url.path, request.headers.get("authorization"), body))
            if self.tiling_delay:
                await asyncio.sleep(self.tiling_delay)
            wanted = set(body["dates"])
            # like tiling: GUIDs are compared decoded (case-insensitive) and echoed as the caller sent them
            sent = {g.lower(): g for g in body["cells"]}
            return {"owned": [{"guid": sent[g.lower()], "dates": [d for d in ds if d in wanted]}
                              for g, ds in self.owned.items() if g.lower() in sent]}

        super().__init__(app)


@pytest.fixture(scope="module")
def peers():
    fake = FakePeers()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
async def pricing(database_url, kafka_bootstrap, peers):
    env = {"PRICING_AOI_URL": peers.url, "PRICING_TILING_URL": peers.url, "PRICING_OUTBOX_POLL_SECONDS": "0.2",
           "PRICING_QUOTE_RETENTION_SECONDS": "3600", "PRICING_QUOTE_PURGE_SECONDS": "0.3"}
    async with running("pricing", database_url, kafka_bootstrap, extra_env=env) as svc:
        yield svc
