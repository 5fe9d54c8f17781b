"""The coverage ledger's rules as production runs them: the use cases (services/tiling/usecases.py) in
their own transactions against the tiling schema in Postgres, the preview reading what they hold
(docs/domain.md, Deduplication). Only the ledger key (account, model, constellation set) counts; a live
reservation or a committed order owns its pairs; releasing or cancelling frees exactly its own."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from services.tiling import usecases
from services.tiling.domain import DateSet, LedgerKey
from shared.contracts.common import Cell
from shared.contracts.coverage import CommitCoverage, CoverageRequest, ReleaseCoverage, ReserveCoverage
from shared.db import create_pool, migrate
from shared.grid import CellId
from shared.inbox import Reject
from shared.outbox import Outbox
from shared.service import Runtime

pytestmark = pytest.mark.integration

ALL = ["Sentinel1", "Sentinel2", "Landsat89"]
APRIL = [date(2025, 4, 1) + timedelta(days=i) for i in range(30)]  # 30 daily dates
TILE = CellId(33, False, 11, 100)
MIGRATIONS = Path(__file__).resolve().parents[3] / "services/tiling/migrations"


def cell(c: CellId) -> Cell:
    return Cell(guid=c.guid, level="tile" if c.is_tile else "minitile",
                area_km2=Decimal("2621.44") if c.is_tile else Decimal("10.24"))


class Ledger:
    """The coverage use cases of one account, each in its own transaction (as the inbox runs them); checkout
    ids are the account's own."""

    def __init__(self, rt: Runtime, account: str) -> None:
        self.rt, self.account = rt, account

    def checkout(self, name: str) -> str:
        return f"{self.account}/{name}"

    async def reserve(self, checkout: str, cells: list[CellId], *, dedup: bool = True) -> int:
        """Reserve one item; the pairs it found owned."""
        item = CoverageRequest(item_id="i1", model="Stratus2", constellations=ALL, deduplicate=dedup,
                               cells=[cell(c) for c in cells], dates=APRIL)
        msg = ReserveCoverage(account_id=self.account, checkout_id=self.checkout(checkout), items=[item])
        async with self.rt.pool.acquire() as conn, conn.transaction():
            reply = await usecases.reserve(self.rt, conn, msg)
        return reply.items[0].owned_pairs

    async def release(self, checkout: str, order_ids: list[str] | None = None) -> None:
        msg = ReleaseCoverage(account_id=self.account, checkout_id=self.checkout(checkout), order_ids=order_ids)
        async with self.rt.pool.acquire() as conn, conn.transaction():
            await usecases.release(self.rt, conn, msg)

    async def commit(self, checkout: str, order_id: str) -> None:
        msg = CommitCoverage(account_id=self.account, checkout_id=self.checkout(checkout), order_ids={"i1": order_id})
        async with self.rt.pool.acquire() as conn, conn.transaction():
            await usecases.commit(self.rt, conn, msg)

    async def owned(self, cells: list[CellId], *, account: str | None = None, model: str = "Stratus2",
                    constellations: list[str] = ALL) -> int:
        key = LedgerKey.of(account or self.account, model, constellations)
        return (await usecases.preview(self.rt, key, cells, DateSet.of(APRIL))).owned_pairs


@pytest.fixture
async def ledger(database_url, unique):
    await migrate(database_url, "tiling", MIGRATIONS)  # as the service does at start (nothing when it has)
    pool = await create_pool(database_url, "tiling", max_size=2)
    yield Ledger(Runtime("tiling", None, pool, Outbox("tiling"), None, None), f"acct-l-{unique}")
    await pool.close()


async def test_only_the_same_account_model_and_constellation_set_count(ledger):
    await ledger.reserve("c1", [TILE])
    assert await ledger.owned([TILE], model="Stratus3") == 0
    assert await ledger.owned([TILE], constellations=["Sentinel1", "Sentinel2"]) == 0
    assert await ledger.owned([TILE], account=ledger.account + "-other") == 0
    assert await ledger.owned([TILE], constellations=["Landsat89", "Sentinel2", "Sentinel1"]) == 30


async def test_a_reservation_counts_as_owned_for_the_next_checkout(ledger):
    assert await ledger.reserve("c1", [TILE.minitile_at(9)]) == 0
    assert await ledger.reserve("c2", [TILE.minitile_at(9)]) == 30


async def test_a_released_reservation_is_no_longer_owned(ledger):
    await ledger.reserve("c1", [TILE])
    await ledger.release("c1")
    assert await ledger.owned([TILE.minitile_at(0)]) == 0


async def test_orders_without_deduplication_still_own_what_they_buy(ledger):
    await ledger.reserve("c1", [TILE], dedup=False)
    assert await ledger.reserve("c2", [TILE], dedup=False) == 0  # no deduplication asked: bought again
    assert await ledger.owned([TILE.minitile_at(4)]) == 30


async def test_releasing_one_of_two_holders_keeps_the_other_ones_coverage(ledger):
    await ledger.reserve("c1", [TILE], dedup=False)
    await ledger.reserve("c2", [TILE], dedup=False)
    await ledger.release("c1")
    assert await ledger.owned([TILE]) == 30


async def test_committed_coverage_is_owned_until_its_order_is_cancelled(ledger):
    await ledger.reserve("c1", [TILE])
    await ledger.commit("c1", "o1")
    await ledger.release("c1")  # saga compensation leaves committed coverage alone
    assert await ledger.owned([TILE]) == 30
    await ledger.release("c1", order_ids=["o1"])  # the order was cancelled
    assert await ledger.owned([TILE]) == 0


async def test_a_released_reservation_cannot_be_committed(ledger):
    await ledger.reserve("c1", [TILE])
    await ledger.release("c1")
    with pytest.raises(Reject, match="reservation g[0-9]+ is released"):
        await ledger.commit("c1", "o1")
