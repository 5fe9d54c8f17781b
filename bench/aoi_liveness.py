"""AOI liveness benchmark: a large legal upload, and what the event loop does meanwhile.

    python bench/aoi_liveness.py

The upload is one MultiPolygon of 200,000 triangles (800,000 vertices) as a ~1.7 MB zipped
shapefile, within every default limit (tests/support/big_aoi.py). Printed, measured in this run:
(a) the baseline: the same work (import, H3 cover, GeoJSON text) run on an event loop, as the
    handler used to, with a 50 ms ticker on that loop: the longest gap between ticks is how long
    /healthz would have waited;
(b) the aoi service started here as a process on a scratch database: POST /v1/aois of the upload,
    and /healthz polled every 50 ms meanwhile (count, p50, max);
(c) the order overlay's H3 query list for a 20 x 20 degree viewport (what each such request cost
    before the bbox pre-filter) next to a 2 x 2 degree one (what the H3 path still costs).
Needs the local Kafka and Postgres (`make setup`).
"""
from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.aoi import DSN, KAFKA, _drop_db, _scratch_db  # noqa: E402
from services.aoi.domain.imports import prepare  # noqa: E402
from shared.auth import mint  # noqa: E402
from shared.geo import Limits  # noqa: E402
from shared.geo.h3index import query_cells, viewport_geometry  # noqa: E402
from tests.support.big_aoi import TRIANGLES, VERTICES, triangles, zipped_shapefile  # noqa: E402

PORT = int(os.environ.get("AOI_LIVENESS_BENCH_PORT", "18952"))


async def in_loop_baseline(data: bytes) -> tuple[float, float]:
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.05)
            now = time.perf_counter()
            gaps.append(now - last - 0.05)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.2)
    t0 = time.perf_counter()
    prepare(data, filename="triangles.zip", content_type="application/zip", repair=False, dissolve=False,
            limits=Limits(), index=True)
    took = time.perf_counter() - t0
    await asyncio.sleep(0.1)
    done.set()
    await tick
    return took, max(gaps)


async def service_run(data: bytes) -> tuple[float, int, list[float]]:
    name, url = await _scratch_db()
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=url, KAFKA_BOOTSTRAP_SERVERS=KAFKA,
               AOI_PORT=str(PORT), AOI_LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, "-m", "services.aoi"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=600) as client, \
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as health:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise SystemExit("aoi service did not become ready")
            await asyncio.sleep(2.0)  # the import workers are spawned at start
            latencies: list[float] = []
            done = asyncio.Event()

            async def poll() -> None:
                while not done.is_set():
                    t0 = time.perf_counter()
                    await health.get("/healthz")
                    latencies.append(time.perf_counter() - t0)
                    await asyncio.sleep(0.05)

            poller = asyncio.create_task(poll())
            t0 = time.perf_counter()
            r = await client.post("/v1/aois", headers={"Authorization": f"Bearer {mint('bench-liveness')}"},
                                  files={"file": ("triangles.zip", data, "application/zip")})
            took = time.perf_counter() - t0
            done.set()
            await poller
            return took, r.status_code, latencies
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        await _drop_db(name)


def overlay_cells() -> None:
    for label, vp in (("20 x 20 degrees", (0, 0, 20, 20)), ("2 x 2 degrees", (10, 50, 12, 52))):
        t0 = time.process_time()
        n = len(query_cells(viewport_geometry(*vp)))
        print(f"(c) overlay H3 query list, {label:<16} {n:9,} cells  {(time.process_time() - t0) * 1e3:8.1f} ms CPU")


async def main() -> None:
    data = zipped_shapefile(triangles())
    print(f"upload: {TRIANGLES:,} triangles, {VERTICES:,} vertices, zipped shapefile of {len(data) / 1e6:.2f} MB "
          f"(database {DSN.rsplit('/', 1)[-1]})")
    took, stall = await in_loop_baseline(data)
    print(f"(a) baseline, on the event loop:  work {took:6.2f} s   longest loop stall {stall:6.2f} s")
    took, status, lat = await service_run(data)
    lat.sort()
    print(f"(b) aoi service, worker processes: POST /v1/aois {status} in {took:6.2f} s   /healthz during it: "
          f"{len(lat)} polls, p50 {statistics.median(lat) * 1e3:.0f} ms, max {lat[-1] * 1e3:.0f} ms "
          f"(aim: under 1,000 ms)")
    overlay_cells()


if __name__ == "__main__":
    asyncio.run(main())
