"""The aoi service as a real process (tests.support.services.running) with lowered import limits,
so each limit can be provoked with a small request; a direct DB connection proves what was stored."""
from __future__ import annotations

import asyncpg
import pytest

from tests.support.services import running

pytestmark = pytest.mark.integration

# Lowered limits (docs/domain.md, AOI rules: limits are configurable): each refusal names its limit.
LIMITS = {
    "AOI_MAX_UPLOAD_BYTES": "2000000",
    "AOI_MAX_UNCOMPRESSED_BYTES": "5000000",
    "AOI_MAX_PARTS": "50",
    "AOI_MAX_VERTICES": "20000",
    "AOI_MAX_TOTAL_AREA_KM2": "1000000",
    "AOI_OUTBOX_POLL_SECONDS": "0.2",
}


@pytest.fixture(scope="package")
async def aoi(database_url, kafka_bootstrap):
    async with running("aoi", database_url, kafka_bootstrap, extra_env=LIMITS) as svc:
        yield svc


@pytest.fixture(scope="package")
async def db(database_url, aoi):
    """A connection into the aoi schema (the service migrated it on start)."""
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "aoi"})
    yield conn
    await conn.close()


class Stored:
    """What the service holds for one account: AOI rows and outbox rows."""

    def __init__(self, db: asyncpg.Connection) -> None:
        self.db = db

    async def aois(self, account: str) -> int:
        return await self.db.fetchval("SELECT count(*) FROM aois WHERE account_id = $1", account)

    async def outbox(self) -> int:
        return await self.db.fetchval("SELECT count(*) FROM outbox")


@pytest.fixture
def stored(db) -> Stored:
    return Stored(db)


def box(w: float, s: float, e: float, n: float) -> str:
    return f"POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))"
