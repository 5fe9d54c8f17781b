"""AOI benchmark: import cost next to the bare floor, and small polygons per second.

    python bench/aoi.py [--vertices 100000] [--fields 3000] [--http-seconds 5] [--concurrency 16]

(a) One real-world-sized MultiPolygon (~100,000 vertices: 40 irregular fields with noisy boundaries,
    in central Europe). Timed: shared.geo.import_geometry (validate + normalise + report) and
    import_aoi from WKT and GeoJSON text, next to the bare floor on the same geometry in the same run:
    shapely is_valid + pyproj geodesic area (Geod.geometry_area_perimeter), and that floor plus
    shapely's own WKT / GeoJSON parse for the text inputs. Prints the ratios.
(c) The same 40 fields as 40 features of a SpatiaLite database and of a CSV with a WKT column
    (both written here with GDAL): import_aoi of the file's bytes next to its floor in the same run,
    GDAL reading the same file (pyogrio.raw.read) + shapely from_wkb + is_valid + pyproj area.
(b) Small field polygons (~1 km², 24 vertices, WKT) validated per second in one process: in-process
    (import_aoi), and over HTTP against the aoi service started here as a process on its own scratch
    database (POST /v1/aois:validate, and POST /v1/aois which also stores and writes the outbox).
Prints figures only. Needs the local Kafka and Postgres for (b) (`make setup`).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import numpy as np  # noqa: E402
import pyogrio.raw  # noqa: E402
import shapely  # noqa: E402
from pyproj import Geod  # noqa: E402

from shared.auth import mint  # noqa: E402
from shared.geo import Limits, import_aoi, import_geometry  # noqa: E402

DSN = os.environ.get("DATABASE_URL", "postgresql://tessera:tessera@127.0.0.1:25432/tessera")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
PORT = int(os.environ.get("AOI_BENCH_PORT", "18951"))
GEOD = Geod(ellps="WGS84")


def noisy_field(rng: np.random.Generator, cx: float, cy: float, radius: float, n: int) -> shapely.Polygon:
    """An irregular, valid star-shaped field: radius modulated by smooth noise, n vertices."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = radius * (1 + 0.25 * np.sin(3 * t + rng.uniform(0, 6)) + 0.1 * np.sin(11 * t + rng.uniform(0, 6))
                  + 0.01 * rng.standard_normal(n))
    x = cx + r * np.cos(t) / math.cos(math.radians(cy))
    y = cy + r * np.sin(t)
    ring = np.column_stack([x, y])
    return shapely.Polygon(np.vstack([ring, ring[:1]]))


def big_multipolygon(vertices: int, parts: int = 40) -> shapely.MultiPolygon:
    rng = np.random.default_rng(7)
    per = vertices // parts
    polys = []
    for i in range(parts):
        cx, cy = 6.0 + (i % 8) * 0.8, 47.0 + (i // 8) * 0.5
        polys.append(noisy_field(rng, cx, cy, 0.15, per - 1))
    mp = shapely.MultiPolygon(polys)
    assert mp.is_valid
    return mp


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_big(vertices: int, repeat: int) -> None:
    geom = big_multipolygon(vertices)
    n = shapely.get_num_coordinates(geom)
    wkt = shapely.to_wkt(geom, rounding_precision=7)
    gj = json.dumps({"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(geom))})
    limits = Limits()

    def floor():
        shapely.is_valid(geom)
        GEOD.geometry_area_perimeter(geom)

    def floor_wkt():
        g = shapely.from_wkt(wkt)
        shapely.is_valid(g)
        GEOD.geometry_area_perimeter(g)

    def floor_geojson():
        g = shapely.from_geojson(gj)
        shapely.is_valid(g)
        GEOD.geometry_area_perimeter(g)

    aoi = import_geometry(geom, limits=limits)
    area_lib = aoi.totals.area_km2
    area_floor = abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6
    t_floor = best_of(floor, repeat)
    t_geom = best_of(lambda: import_geometry(geom, limits=limits), repeat)
    t_floor_wkt = best_of(floor_wkt, repeat)
    t_wkt = best_of(lambda: import_aoi(wkt, limits=limits), repeat)
    t_floor_gj = best_of(floor_geojson, repeat)
    t_gj = best_of(lambda: import_aoi(gj, limits=limits), repeat)
    print(f"(a) MultiPolygon of {n:,} vertices, {len(geom.geoms)} polygons, {area_lib:,.2f} km² "
          f"(floor's area {area_floor:,.2f} km²); best of {repeat}")
    print(f"    floor: shapely is_valid + pyproj geodesic area   {t_floor * 1e3:8.1f} ms")
    print(f"    import_geometry (validate+normalise+report)     {t_geom * 1e3:8.1f} ms   "
          f"ratio {t_geom / t_floor:5.2f}x")
    print(f"    floor + shapely.from_wkt                          {t_floor_wkt * 1e3:8.1f} ms")
    print(f"    import_aoi(WKT text, {len(wkt) / 1e6:.1f} MB)                   {t_wkt * 1e3:8.1f} ms   "
          f"ratio {t_wkt / t_floor_wkt:5.2f}x")
    print(f"    floor + shapely.from_geojson                      {t_floor_gj * 1e3:8.1f} ms")
    print(f"    import_aoi(GeoJSON Feature, {len(gj) / 1e6:.1f} MB)            {t_gj * 1e3:8.1f} ms   "
          f"ratio {t_gj / t_floor_gj:5.2f}x")


def bench_formats(vertices: int, repeat: int) -> None:
    geom = big_multipolygon(vertices)
    fields = list(geom.geoms)
    limits = Limits()
    with tempfile.TemporaryDirectory(prefix="aoi-bench-") as tmp:
        sqlite_path = os.path.join(tmp, "fields.sqlite")
        wkb = np.array([shapely.to_wkb(g) for g in fields], dtype=object)
        names = np.array([f"f{i}" for i in range(len(fields))], dtype=object)
        pyogrio.raw.write(sqlite_path, wkb, [names], ["name"], driver="SQLite", crs="EPSG:4326",
                          geometry_type="Polygon", dataset_options={"SPATIALITE": "YES"})
        csv_path = os.path.join(tmp, "fields.csv")
        with open(csv_path, "w") as fh:
            fh.write("name,WKT\n" + "".join(f'f{i},"{shapely.to_wkt(g, rounding_precision=7)}"\n'
                                             for i, g in enumerate(fields)))
        cases = [("SpatiaLite", sqlite_path, {}),
                 ("CSV (WKT column)", csv_path, {"GEOM_POSSIBLE_NAMES": "WKT", "KEEP_GEOM_COLUMNS": "NO"})]
        print(f"(c) the same {len(fields)} fields as features of a file; best of {repeat}")
        for label, path, opts in cases:
            data = open(path, "rb").read()

            def floor(path: str = path, opts: dict = opts) -> None:
                _, _, w, _ = pyogrio.raw.read(path, columns=[], force_2d=True, **opts)
                g = shapely.from_wkb(w)
                shapely.is_valid(g)
                for part in g:
                    GEOD.geometry_area_perimeter(part)

            aoi = import_aoi(data, filename=os.path.basename(path), limits=limits)
            assert len(aoi.parts) == len(fields), (label, len(aoi.parts))
            t_floor = best_of(floor, repeat)
            t_imp = best_of(lambda data=data, path=path: import_aoi(data, filename=os.path.basename(path),
                                                                    limits=limits), repeat)
            print(f"    floor: GDAL read + from_wkb + is_valid + area ({label:<16}) {t_floor * 1e3:8.1f} ms")
            print(f"    import_aoi({label}, {len(data) / 1e6:.1f} MB){' ' * max(0, 24 - len(label))}"
                  f"{t_imp * 1e3:8.1f} ms   ratio {t_imp / t_floor:5.2f}x")


def field_wkts(count: int) -> list[str]:
    rng = np.random.default_rng(11)
    out = []
    for _ in range(count):
        cx, cy = rng.uniform(5, 15), rng.uniform(45, 55)
        out.append(shapely.to_wkt(noisy_field(rng, cx, cy, 0.006, 23), rounding_precision=6))
    return out


def bench_small_in_process(fields: list[str]) -> None:
    import_aoi(fields[0])
    t0 = time.perf_counter()
    for w in fields:
        import_aoi(w)
    dt = time.perf_counter() - t0
    aoi = import_aoi(fields[0])
    print(f"(b) small fields ({aoi.totals.vertex_count} vertices, ~{aoi.totals.area_km2:.2f} km²), one process:")
    print(f"    in-process import_aoi(WKT)                      {len(fields) / dt:10,.0f} /s   "
          f"({dt / len(fields) * 1e6:.0f} µs each)")


async def _scratch_db() -> tuple[str, str]:
    name = f"aoi_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = DSN.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


async def _drop_db(name: str) -> None:
    conn = await asyncpg.connect(DSN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


class _Conn:
    """A minimal HTTP/1.1 keep-alive client (httpx in the same process would be the bottleneck)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, token: str) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(ln.split(":", 1)[1]) for ln in lines if ln.lower().startswith("content-length:"))
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _hammer(path: str, fields: list[str], seconds: float, concurrency: int,
                  token: str) -> tuple[int, list[float], dict[int, int]]:
    done = 0
    lat: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    bodies = [f.encode() for f in fields]

    async def worker(k: int) -> None:
        nonlocal done
        conn = _Conn(PORT)
        i = k
        try:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                status = await conn.post(path, bodies[i % len(bodies)], token)
                lat.append(time.perf_counter() - t0)
                statuses[status] = statuses.get(status, 0) + 1
                done += 1
                i += concurrency
        finally:
            conn.close()

    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return done, lat, statuses


async def bench_http(fields: list[str], seconds: float, concurrency: int) -> None:
    name, url = await _scratch_db()
    env = dict(os.environ, PYTHONPATH=str(ROOT), DATABASE_URL=url, KAFKA_BOOTSTRAP_SERVERS=KAFKA,
               AOI_PORT=str(PORT), AOI_LOG_LEVEL="WARNING")
    proc = subprocess.Popen([sys.executable, "-m", "services.aoi"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=30) as client:
            for _ in range(300):
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise SystemExit("aoi service did not become ready")
            token = mint("bench-account")
            await _hammer("/v1/aois:validate", fields, 1.0, concurrency, token)  # warm-up
            for path, label in (("/v1/aois:validate", "validate (dry run)"),
                                ("/v1/aois", "create (store + outbox)")):
                done, lat, statuses = await _hammer(path, fields, seconds, concurrency, token)
                lat.sort()
                print(f"    HTTP POST {path:<18} {label:<24}{done / seconds:8,.0f} /s   p50 "
                      f"{statistics.median(lat) * 1e3:5.1f} ms  p99 {lat[int(0.99 * (len(lat) - 1))] * 1e3:5.1f} ms"
                      f"  ({concurrency} concurrent, statuses {statuses})")
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        await _drop_db(name)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vertices", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--fields", type=int, default=3000)
    ap.add_argument("--http-seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--no-http", action="store_true")
    args = ap.parse_args()
    bench_big(args.vertices, args.repeat)
    bench_formats(args.vertices, args.repeat)
    fields = field_wkts(args.fields)
    bench_small_in_process(fields)
    if not args.no_http:
        asyncio.run(bench_http(fields, args.http_seconds, args.concurrency))


if __name__ == "__main__":
    main()
