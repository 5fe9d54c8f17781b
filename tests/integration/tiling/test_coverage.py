"""The coverage ledger through the real topics: ReserveCoverage / CommitCoverage / ReleaseCoverage on
tiling.coverage.commands, replies on tiling.coverage.events (docs/domain.md, Deduplication), and the preview
over HTTP. Everything read from the shared topics is filtered by this test's own checkout ids."""
from __future__ import annotations

import asyncio
import time
from datetime import date
from decimal import Decimal

import pytest

from services.tiling import usecases
from shared.contracts.common import Cell
from shared.contracts.coverage import CommitCoverage, CoverageRequest, ReleaseCoverage, ReserveCoverage
from shared.db import create_pool
from shared.grid import CellId
from shared.outbox import Outbox
from shared.service import Runtime
from tests.support.kafka import replies_on, send_messages

pytestmark = pytest.mark.integration

ALL = ["Sentinel1", "Sentinel2", "Landsat89"]
D1, D2, D3 = date(2025, 4, 1), date(2025, 4, 4), date(2025, 4, 7)
TILE = CellId(33, False, 9, 100)
TILE2 = CellId(33, False, 10, 100)


def tile(c: CellId) -> Cell:
    return Cell(guid=c.guid, level="tile", area_km2=Decimal("2621.44"))


def mini(c: CellId, i: int) -> Cell:
    return Cell(guid=c.minitile_at(i).guid, level="minitile", area_km2=Decimal("10.24"))


def item(item_id: str, cells: list[Cell], dates: list[date], *, dedup: bool = True, model: str = "Stratus2",
         constellations: list[str] = ALL) -> CoverageRequest:
    return CoverageRequest(item_id=item_id, model=model, constellations=constellations, deduplicate=dedup,
                           cells=cells, dates=dates)


async def send(bootstrap: str, *messages) -> None:
    await send_messages(bootstrap, list(messages), concurrently=True)

async def replies(bootstrap: str, checkout_id: str, count: int = 1, timeout: float = 40.0) -> list[tuple[str, dict]]:
    """The replies on tiling.coverage.events for one checkout, in order: (ce_type, body)."""
    return await replies_on(bootstrap, "tiling.coverage.events", checkout_id, count, timeout)

async def reserve(bootstrap: str, account: str, checkout_id: str, *items: CoverageRequest) -> dict:
    await send(bootstrap, ReserveCoverage(account_id=account, checkout_id=checkout_id, items=list(items)))
    (ce_type, body), = await replies(bootstrap, checkout_id)
    assert ce_type == "coverage.reserved.v1", body
    return body


async def commit(bootstrap: str, account: str, checkout_id: str, order_ids: dict[str, str]) -> None:
    await send(bootstrap, CommitCoverage(account_id=account, checkout_id=checkout_id, order_ids=order_ids))
    got = await replies(bootstrap, checkout_id, 2)
    assert got[-1][0] == "coverage.committed.v1"


def cells_of(outcome: dict) -> dict[str, list[str]]:
    return {c["guid"]: c["excluded_dates"] for c in outcome["cells"]}


async def test_a_minitile_date_is_owned_through_its_parent_tile(tiling, kafka_bootstrap, unique):
    account = f"acct-a-{unique}"
    first = await reserve(kafka_bootstrap, account, f"c1-{unique}", item("i1", [tile(TILE)], [D1, D2]))
    assert first["items"][0]["owned_pairs"] == 0
    await commit(kafka_bootstrap, account, f"c1-{unique}", {"i1": f"o1-{unique}"})

    # minitiles 0 and 1 of the tile for D1 and D3: D1 is owned through the tile (2 pairs), D3 is not
    second = await reserve(kafka_bootstrap, account, f"c2-{unique}",
                           item("i1", [mini(TILE, 0), mini(TILE, 1)], [D1, D3]))
    out = second["items"][0]
    assert out["owned_pairs"] == 2
    assert cells_of(out) == {TILE.minitile_at(0).guid: ["2025-04-01"], TILE.minitile_at(1).guid: ["2025-04-01"]}

    # a different model (or constellation set) is another ledger: nothing owned
    other = await reserve(kafka_bootstrap, account, f"c3-{unique}",
                          item("i1", [mini(TILE, 0)], [D1], model="Nimbus"),
                          item("i2", [mini(TILE, 0)], [D1], constellations=["Sentinel2"]))
    assert [o["owned_pairs"] for o in other["items"]] == [0, 0]

    # the preview over HTTP (what pricing asks) sees the committed tile and the live reservation c2
    r = await tiling.client.post("/v1/coverage/preview", headers=tiling.auth(account), json={
        "model": "Stratus2", "constellations": list(reversed(ALL)),
        "cells": [TILE.minitile_at(0).guid, TILE.minitile_at(2).guid, TILE.guid],
        "dates": ["2025-04-01", "2025-04-07", "2025-04-10"]})
    assert r.status_code == 200, r.text
    body = r.json()
    owned = {o["guid"]: o["dates"] for o in body["owned"]}
    # minitile 0: D1 via the tile, D3 via reservation c2; minitile 2: D1 via the tile; the tile: D1 only
    assert owned == {TILE.minitile_at(0).guid: ["2025-04-01", "2025-04-07"],
                     TILE.minitile_at(2).guid: ["2025-04-01"], TILE.guid: ["2025-04-01"]}
    assert body["owned_pairs"] == 4
    # the tile's D3 is bought whole although minitiles 0 and 1 are reserved for it
    assert any("2 of its minitiles" in w for w in body["warnings"])
    # another account sees nothing
    r = await tiling.client.post("/v1/coverage/preview", headers=tiling.auth(f"other-{unique}"), json={
        "model": "Stratus2", "constellations": ALL, "cells": [TILE.guid], "dates": ["2025-04-01"]})
    assert r.json()["owned"] == [] and r.json()["owned_pairs"] == 0

    # the order of c1 is cancelled in Review: its committed tile is released, D1 of the minitiles is free again
    await send(kafka_bootstrap, ReleaseCoverage(account_id=account, checkout_id=f"c1-{unique}",
                                                order_ids=[f"o1-{unique}"]))
    assert (await replies(kafka_bootstrap, f"c1-{unique}", 3))[-1][0] == "coverage.released.v1"
    r = await tiling.client.post("/v1/coverage/preview", headers=tiling.auth(account), json={
        "model": "Stratus2", "constellations": ALL, "cells": [TILE.minitile_at(2).guid], "dates": ["2025-04-01"]})
    assert r.json()["owned"] == []


async def test_a_tile_date_is_owned_only_as_a_whole_tile(tiling, kafka_bootstrap, unique):
    account = f"acct-b-{unique}"
    ten = [mini(TILE, i) for i in range(10)]
    await reserve(kafka_bootstrap, account, f"c1-{unique}", item("i1", ten, [D1]))
    await commit(kafka_bootstrap, account, f"c1-{unique}", {"i1": f"o1-{unique}"})

    # the tile for D1 and D2: not owned (only 10 of its 256 minitiles are), kept whole with a warning
    out = (await reserve(kafka_bootstrap, account, f"c2-{unique}", item("i1", [tile(TILE)], [D1, D2])))["items"][0]
    assert out["owned_pairs"] == 0
    assert cells_of(out) == {TILE.guid: []}
    assert len(out["warnings"]) == 1 and "10 of its minitiles" in out["warnings"][0]
    assert "33N-C0009-R0100" in out["warnings"][0]


async def test_without_deduplication_nothing_is_excluded_but_the_coverage_is_held(tiling, kafka_bootstrap, unique):
    account = f"acct-c-{unique}"
    out = (await reserve(kafka_bootstrap, account, f"c1-{unique}",
                         item("i1", [tile(TILE2)], [D1]), item("i2", [tile(TILE2)], [D1, D2], dedup=False)))
    # item i2 overlaps i1 (same checkout) but does not deduplicate: it buys both dates
    assert [o["owned_pairs"] for o in out["items"]] == [0, 0]
    assert cells_of(out["items"][1]) == {TILE2.guid: []}
    # a later deduplicating order finds D1 and D2 owned (held by i2 without deduplication, and i1)
    later = await reserve(kafka_bootstrap, account, f"c2-{unique}", item("i1", [tile(TILE2)], [D1, D2, D3]))
    assert cells_of(later["items"][0]) == {TILE2.guid: ["2025-04-01", "2025-04-04"]}
    assert later["items"][0]["owned_pairs"] == 2


async def test_redelivery_resend_unknown_release_and_bad_guid(tiling, kafka_bootstrap, unique):
    account = f"acct-d-{unique}"
    cmd = ReserveCoverage(account_id=account, checkout_id=f"c1-{unique}",
                          items=[item("i1", [tile(TILE)], [D1, D2])])
    await send(kafka_bootstrap, cmd)
    await send(kafka_bootstrap, cmd)  # re-sent under a new event id: the same answer again
    got = await replies(kafka_bootstrap, f"c1-{unique}", 2)
    assert [t for t, _ in got] == ["coverage.reserved.v1"] * 2
    assert got[0][1]["items"] == got[1][1]["items"]
    assert got[0][1]["items"][0]["owned_pairs"] == 0  # the second did not find its own first reservation owned

    # releasing a checkout nobody reserved: CoverageReleased anyway
    await send(kafka_bootstrap, ReleaseCoverage(account_id=account, checkout_id=f"ghost-{unique}"))
    assert (await replies(kafka_bootstrap, f"ghost-{unique}"))[0][0] == "coverage.released.v1"

    # a mistyped GUID: CoverageRejected naming it
    bad = TILE.guid[:-1] + ("0" if TILE.guid[-1] != "0" else "1")
    await send(kafka_bootstrap, ReserveCoverage(account_id=account, checkout_id=f"c2-{unique}", items=[
        item("i1", [tile(TILE), Cell(guid=bad, level="tile", area_km2=Decimal("2621.44"))], [D1])]))
    (t, body), = await replies(kafka_bootstrap, f"c2-{unique}")
    assert t == "coverage.rejected.v1" and body["code"] == "invalid_cells"
    assert bad in body["reason"] and "cells[1]" in body["reason"]


async def test_two_racing_reservations_never_buy_the_same_pair(tiling, kafka_bootstrap, unique):
    account = f"acct-e-{unique}"
    cells = [tile(TILE2), mini(TILE, 7), mini(TILE, 8)]
    a, b = f"ca-{unique}", f"cb-{unique}"
    await send(kafka_bootstrap, ReserveCoverage(account_id=account, checkout_id=a, items=[item("i1", cells, [D1, D2])]),
               ReserveCoverage(account_id=account, checkout_id=b, items=[item("i1", cells, [D1, D2])]))
    ra, rb = (await replies(kafka_bootstrap, a))[0][1], (await replies(kafka_bootstrap, b))[0][1]
    owned = sorted([ra["items"][0]["owned_pairs"], rb["items"][0]["owned_pairs"]])
    assert owned == [0, 6]  # 3 cells x 2 dates: one buys all six pairs, the other finds all six owned
    winner, loser = (a, b) if ra["items"][0]["owned_pairs"] == 0 else (b, a)

    # the winner's checkout fails: ReleaseCoverage frees the pairs; a new reservation gets them all
    await send(kafka_bootstrap, ReleaseCoverage(account_id=account, checkout_id=winner))
    assert (await replies(kafka_bootstrap, winner, 2))[-1][0] == "coverage.released.v1"
    again = await reserve(kafka_bootstrap, account, f"cc-{unique}", item("i1", cells, [D1, D2]))
    assert again["items"][0]["owned_pairs"] == 0


async def test_the_account_lock_serialises_concurrent_transactions(tiling, database_url, unique):
    """Two reserve transactions of one account at the same time, on two connections: the second waits
    for the first to commit, then finds all its pairs owned (without the lock it would read nothing
    and buy them again)."""
    pool = await create_pool(database_url, "tiling", max_size=4)
    rt = Runtime("tiling", None, pool, Outbox("tiling"), None, None)  # effects use only pool and outbox
    account = f"acct-f-{unique}"
    cells = [tile(TILE), mini(TILE2, 0)]
    first_in = asyncio.Event()

    async def run(checkout_id: str, hold: float, wait: bool):
        if wait:
            await first_in.wait()
        async with pool.acquire() as conn, conn.transaction():
            started = time.monotonic()
            reply = await usecases.reserve(rt, conn, ReserveCoverage(
                account_id=account, checkout_id=checkout_id, items=[item("i1", cells, [D1, D2, D3])]))
            first_in.set()
            await asyncio.sleep(hold)  # keep the transaction (and the lock) open a while
        return reply, time.monotonic() - started

    try:
        (r1, _), (r2, waited) = await asyncio.gather(run(f"x1-{unique}", 1.0, False), run(f"x2-{unique}", 0, True))
    finally:
        await pool.close()
    assert r1.items[0].owned_pairs == 0
    assert r2.items[0].owned_pairs == 6  # 2 cells x 3 dates
    assert waited >= 0.8


async def test_the_map_viewport_lists_owned_and_reserved_cells(tiling, kafka_bootstrap, unique):
    from .geometry import MINI, TILE_E0, TILE_N0, lonlat

    account = f"acct-g-{unique}"
    await reserve(kafka_bootstrap, account, f"c1-{unique}", item("i1", [mini(TILE, 17), mini(TILE, 18)], [D1, D2]))
    await commit(kafka_bootstrap, account, f"c1-{unique}", {"i1": f"o1-{unique}"})
    await reserve(kafka_bootstrap, account, f"c2-{unique}", item("i1", [tile(TILE2)], [D3], model="Nimbus"))

    # a viewport around minitiles 17/18 of TILE only (TILE2 lies 51 km further east)
    w, s = lonlat(TILE_E0 + 0.5 * MINI, TILE_N0 + 0.5 * MINI)
    e, n = lonlat(TILE_E0 + 3.5 * MINI, TILE_N0 + 2.5 * MINI)
    h = tiling.auth(account)
    r = await tiling.client.get("/v1/coverage", params={"bbox": f"{w},{s},{e},{n}"}, headers=h)
    assert r.status_code == 200, r.text
    cells = r.json()["cells"]
    assert [(c["code"], c["status"], c["dates"], c["order_ids"]) for c in cells] == [
        ("33N-C0009-R0100-M017", "committed", ["2025-04-01", "2025-04-04"], [f"o1-{unique}"]),
        ("33N-C0009-R0100-M018", "committed", ["2025-04-01", "2025-04-04"], [f"o1-{unique}"]),
    ]
    assert all(c["model"] == "Stratus2" and sorted(c["constellations"]) == sorted(ALL) for c in cells)
    assert all("footprint" in c for c in cells)

    # a wider viewport over both tiles, filtered by model: the reserved Nimbus tile only
    w, s = lonlat(TILE_E0, TILE_N0)
    e, n = lonlat(TILE_E0 + 2 * 51_200 - 1_000, TILE_N0 + 51_200 - 1_000)
    r = await tiling.client.get("/v1/coverage", params={"bbox": f"{w},{s},{e},{n}", "model": "Nimbus"}, headers=h)
    assert [(c["code"], c["status"], c["dates"]) for c in r.json()["cells"]] == [
        ("33N-C0010-R0100", "reserved", ["2025-04-07"])]
    # someone else's viewport is empty; a continent is too large a viewport
    r = await tiling.client.get("/v1/coverage", params={"bbox": f"{w},{s},{e},{n}"}, headers=tiling.auth("nobody"))
    assert r.json()["cells"] == []
    r = await tiling.client.get("/v1/coverage", params={"bbox": "-120,-50,120,70"}, headers=h)
    assert r.status_code == 422 and r.json()["code"] == "viewport_too_large"
