"""The tiling service as a real process against the real Postgres and Kafka, plus a tiny fake AOI
service (uvicorn in a thread) answering GET /v1/aois/{id} with a stored geometry."""
from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.services import running

pytestmark = pytest.mark.integration


class FakeAoi:
    def __init__(self) -> None:
        self.aois: dict[str, dict[str, Any]] = {}
        self.seen: list[tuple[str, str | None]] = []
        app = FastAPI()

        @app.get("/v1/aois/{aoi_id}")
        async def aoi(aoi_id: str, request: Request):
            self.seen.append((aoi_id, request.headers.get("authorization")))
            if aoi_id not in self.aois:
                return JSONResponse({"code": "not_found"}, status_code=404)
            return {"id": aoi_id, "geometry": self.aois[aoi_id]}

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(5)


@pytest.fixture(scope="module")
def fake_aoi():
    fake = FakeAoi()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
async def tiling(database_url, kafka_bootstrap, fake_aoi):
    env = {"TILING_AOI_URL": fake_aoi.url, "TILING_OUTBOX_POLL_SECONDS": "0.2"}
    async with running("tiling", database_url, kafka_bootstrap, extra_env=env) as svc:
        yield svc
