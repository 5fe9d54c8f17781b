"""Tiling benchmark: prints figures, asserts nothing.

    .venv/bin/python bench/tiling.py

1. Minitile cover of a France-sized AOI (a 32-vertex outline of mainland France, ~549,000 km²)
   next to h3.geo_to_cells at the resolution with the nearest cell count, and next to a naive
   per-cell shapely baseline (every minitile of the AOI's bounding box in each zone tested with
   one shapely.intersects call on the unprepared AOI), run on a subset of rows and extrapolated.
2. Deduplication of an order of 1,000 cells x 365 dates against a ledger holding 1,000,000 owned
   cells.
3. With DATABASE_URL set: the same through the service's Postgres ledger (a scratch schema):
   loading the account's groups, the coverage preview (pricing allows it 1.5 s) and a whole
   reserve transaction (lock, load, dedup, insert, outbox), rolled back.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import h3  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402

from services.tiling.domain import CoverageGroup, CoverageLedger, DateSet, deduplicate  # noqa: E402
from shared.grid import CellId, Level, cell_from_key, cover  # noqa: E402
from shared.grid.cover import geodesic_area_m2, piece_to_utm, zone_pieces  # noqa: E402

FRANCE = Polygon([
    (2.55, 51.08), (1.6, 50.9), (1.4, 50.1), (0.15, 49.45), (-1.25, 49.65), (-1.95, 49.7),
    (-1.6, 48.65), (-3.5, 48.8), (-4.75, 48.35), (-4.4, 47.8), (-2.2, 47.15), (-1.2, 46.2),
    (-1.25, 44.6), (-1.8, 43.38), (-0.3, 42.8), (1.7, 42.5), (3.15, 42.45), (3.1, 43.1),
    (4.8, 43.35), (6.2, 43.1), (7.5, 43.8), (6.6, 44.4), (7.0, 45.2), (6.8, 45.9), (6.1, 46.4),
    (6.9, 47.4), (7.6, 47.6), (8.2, 48.97), (6.4, 49.45), (5.9, 49.5), (4.85, 50.15), (4.15, 49.98),
])


def best_of(fn, repeat=5):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times), out


def naive_baseline(aoi, size=3200, row_stride=10):
    """Per-cell shapely.intersects over each zone's bounding-box lattice, every `row_stride`-th row
    timed, extrapolated to all rows.  Returns (estimated seconds, estimated cells found, tested)."""
    total_t, found, tested = 0.0, 0, 0
    for zone, south, piece in zone_pieces(aoi):
        utm = piece_to_utm(piece, zone, south)
        x0, y0, x1, y1 = utm.bounds
        cols = range(int(x0 // size), int(x1 // size) + 1)
        rows = list(range(int(y0 // size), int(y1 // size) + 1))
        sample = rows[::row_stride]
        t = time.perf_counter()
        hits = 0
        for r in sample:
            for c in cols:
                if shapely.intersects(utm, shapely.box(c * size, r * size, (c + 1) * size, (r + 1) * size)):
                    hits += 1
        dt = time.perf_counter() - t
        scale = len(rows) / len(sample)
        total_t += dt * scale
        found += hits * scale
        tested += len(sample) * len(cols)
    return total_t, int(found), tested


def bench_cover():
    print("== minitile cover of a France-sized AOI ==")
    print(f"AOI: {len(FRANCE.exterior.coords) - 1}-vertex outline, "
          f"geodesic area {geodesic_area_m2(FRANCE) / 1e6:,.0f} km²")
    cover(FRANCE, Level.MINITILE)  # warm the caches (transformers, band polygons)
    t_min, t_med, cov = best_of(lambda: cover(FRANCE, Level.MINITILE))
    n = len(cov)
    per_zone = ", ".join(f"{z.label} {len(z):,}" for z in cov.zones)
    print(f"grid cover:   {n:,} minitiles ({per_zone}; overlap strips counted per zone)")
    print(f"              best {t_min * 1e3:.1f} ms, median {t_med * 1e3:.1f} ms "
          "(numpy arrays of cell keys + overlap areas)")
    t_guid, _, guids = best_of(lambda: [g for z in cov.zones for g in z.guids()], repeat=3)
    print(f"              + GUID strings for all cells: {t_guid * 1e3:.1f} ms ({len(guids):,})")

    counts = {}
    for res in range(4, 9):
        counts[res] = len(h3.geo_to_cells(FRANCE, res))
    res = min(counts, key=lambda r: abs(math.log(counts[r] / n)))
    h_min, h_med, cells = best_of(lambda: h3.geo_to_cells(FRANCE, res))
    print(f"h3 res {res}:     {len(cells):,} cells (res counts {counts}); "
          f"best {h_min * 1e3:.1f} ms, median {h_med * 1e3:.1f} ms")
    print(f"              ratio grid/h3 (time): {t_min / h_min:.2f}x; "
          f"per cell: {(t_min / n) / (h_min / len(cells)):.2f}x")
    print(f"              ratio grid+GUIDs/h3: {(t_min + t_guid) / h_min:.2f}x")

    stride = 10
    nv_t, nv_found, tested = naive_baseline(FRANCE, row_stride=stride)
    print(f"naive:        per-cell shapely.intersects, every {stride}th lattice row timed ({tested:,} boxes), "
          "extrapolated:")
    print(f"              ~{nv_t:.2f} s for ~{nv_found:,} minitiles (intersects also counts edge-touching cells)")
    print(f"              ratio naive/grid: {nv_t / t_min:.0f}x")


def bench_dedup():
    print("\n== deduplication: 1,000 cells x 365 dates vs a ledger of 1,000,000 owned cells ==")
    rng = np.random.default_rng(7)
    year = DateSet.every(date(2025, 1, 1), date(2025, 12, 31))
    # 1,000,000 owned minitiles: 3,907 tiles' worth in zones 31-33 N, held by 1,000 orders of 1,000
    tiles = [CellId(z, False, c, r) for z in (31, 32, 33) for c in range(5, 15) for r in range(60, 191)]
    all_keys = np.array([t.key | (1 << 8) | i for t in tiles for i in range(256)], dtype=np.int64)
    owned_keys = rng.choice(all_keys, size=1_000_000, replace=False)
    t = time.perf_counter()
    ledger = CoverageLedger()
    held = []
    for i in range(1000):
        start = int(rng.integers(0, 300))
        dates = DateSet.every(date(2025, 1, 1 + start % 28), date(2025, 12, 31), int(rng.integers(1, 8)))
        held.append(CoverageGroup(np.sort(owned_keys[i * 1000 : (i + 1) * 1000]), dates))
        ledger.hold(f"order-{i}", [held[-1]])
    ledger.dates_of(np.array([0], dtype=np.int64))  # settle the index
    t_build = time.perf_counter() - t
    print(f"ledger:       {ledger.owned_cells():,} owned cells in 1,000 groups, "
          f"built/indexed in {t_build * 1e3:.0f} ms")
    print("              storage: 1,000 rows of (8-byte keys x 1,000 + one ~46-byte date bitmap)")

    # the order: 800 minitiles (half of them owned) + 200 tiles of the same area
    req_minis = [cell_from_key(int(k)) for k in np.concatenate([owned_keys[:400], rng.choice(all_keys, 400)])]
    req_tiles = [tiles[i] for i in rng.choice(len(tiles), 200, replace=False)]
    request = req_minis + req_tiles
    t_min, t_med, result = best_of(lambda: deduplicate(request, year, ledger))
    print(f"order:        {len(request):,} cells x {len(year)} dates = {result.requested_pairs:,} pairs")
    print(f"dedup:        best {t_min * 1e3:.1f} ms, median {t_med * 1e3:.1f} ms; owned {result.owned_pairs:,}, "
          f"to buy {result.to_buy_pairs:,}, partly-owned tile warnings {len(result.warnings)}")
    groups = result.to_buy_groups()
    print(f"              remainder stored as {len(groups)} (cells, date-set) groups")
    return held, request, year


async def bench_store(held, request, year):
    import asyncio
    import os
    import uuid
    from decimal import Decimal

    from services.tiling import store, usecases
    from services.tiling.domain import LedgerKey
    from services.tiling.domain.coverage import families_of
    from shared.contracts.common import Cell
    from shared.contracts.coverage import CoverageRequest, ReserveCoverage
    from shared.db import create_pool, migrate
    from shared.outbox import Outbox
    from shared.service import Runtime

    dsn = os.environ.get("DATABASE_URL")
    if not dsn:
        print("\n(DATABASE_URL not set: Postgres ledger figures skipped)")
        return
    print("\n== the same through the Postgres ledger (scratch schema) ==")
    schema = f"tiling_bench_{uuid.uuid4().hex[:8]}"
    await migrate(dsn, schema, Path(__file__).resolve().parents[1] / "services/tiling/migrations")
    pool = await create_pool(dsn, schema, max_size=2)
    try:
        key = LedgerKey.of("bench", "Stratus2", ["Sentinel2"])
        t = time.perf_counter()
        async with pool.acquire() as conn, conn.transaction():
            for i, g in enumerate(held):
                await store.insert_group(conn, key, f"c{i}", "i1", g)
            await conn.execute("UPDATE coverage_groups SET status = 'committed'")
        size = await pool.fetchval("SELECT pg_total_relation_size('coverage_groups')")
        print(f"ledger:       1,000 rows (1,000,000 cells) written in {time.perf_counter() - t:.2f} s; "
              f"table + indexes {size / 1e6:.1f} MB")
        fams = families_of(request)

        async def load():
            async with pool.acquire() as conn:
                return await usecases.load_ledger(conn, key, fams)

        times = []
        for _ in range(3):
            t = time.perf_counter()
            ledger = await load()
            times.append(time.perf_counter() - t)
        print(f"load:         groups touching the order's {len(fams):,} tile families: {ledger.owned_cells():,} cells, "
              f"best {min(times) * 1e3:.0f} ms")
        times = []
        for _ in range(3):
            t = time.perf_counter()
            ledger = await load()
            result = await asyncio.to_thread(deduplicate, request, year, ledger)
            times.append(time.perf_counter() - t)
        print(f"preview:      load + dedup best {min(times) * 1e3:.0f} ms (owned {result.owned_pairs:,} pairs)")
        from shared.grid import is_in_grid

        # the synthetic order holds some cells outside their zone band (fine for the pure dedup, but
        # the service rejects them): only the real ones go into the command
        cells = [Cell(guid=c.guid, level="tile" if c.is_tile else "minitile", area_km2=Decimal("10.24"))
                 for c in request if is_in_grid(c)]
        msg = ReserveCoverage(account_id="bench", checkout_id="bench-1", items=[CoverageRequest(
            item_id="i1", model="Stratus2", constellations=["Sentinel2"], deduplicate=True, cells=cells,
            dates=year.dates())])
        rt = Runtime("tiling", None, pool, Outbox(schema), None, None)
        times = []
        for _ in range(3):
            async with pool.acquire() as conn:
                tr = conn.transaction()
                await tr.start()
                t = time.perf_counter()
                reply = await usecases.reserve(rt, conn, msg)
                times.append(time.perf_counter() - t)
                await tr.rollback()
                if not hasattr(reply, "items"):
                    raise SystemExit(f"reserve rejected: {reply.reason[:300]}")
        print(f"reserve:      lock + load + dedup + insert + outbox best {min(times) * 1e3:.0f} ms "
              f"for {len(cells):,} cells x 365 dates, owned {reply.items[0].owned_pairs:,} pairs")
    finally:
        await pool.close()
        import asyncpg
        conn = await asyncpg.connect(dsn)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


if __name__ == "__main__":
    import asyncio

    bench_cover()
    asyncio.run(bench_store(*bench_dedup()))
