"""The tiling service as a real process against the real Postgres and Kafka, plus a tiny fake AOI
service (uvicorn in a thread) answering GET /v1/aois/{id} with a stored geometry and, as the AOI service
does, a report of its parts."""
from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.support.fake_http import ThreadedApp
from tests.support.services import running

pytestmark = pytest.mark.integration


class FakeAoi(ThreadedApp):
    def __init__(self) -> None:
        self.aois: dict[str, dict[str, Any]] = {}
        self.seen: list[tuple[str, str | None]] = []
        app = FastAPI()

        @app.get("/v1/aois/{aoi_id}")
        async def aoi(aoi_id: str, request: Request):
            self.seen.append((aoi_id, request.headers.get("authorization")))
            if aoi_id not in self.aois:
                return JSONResponse({"code": "not_found"}, status_code=404)
            return {"id": aoi_id, "geometry": self.aois[aoi_id],
                    "report": {"parts": [{"index": 1, "kind": "Polygon", "area_km2": "1.0"}]}}

        super().__init__(app)


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
