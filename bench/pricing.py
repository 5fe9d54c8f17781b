"""Pricing benchmark: a year of daily dates over 500 tiles + 2,000 minitiles.

    python bench/pricing.py [--repeat 30] [--rate 100] [--seconds 20] [--skip-http]

(1) In-process, no I/O: (a) the calculator alone (``estimate`` on a resolved item), (b) the whole
    request path minus HTTP and the database, as the service runs it: parse the JSON, validate the
    payload, decode the 2,500 GUIDs and their areas, price, build the JSON response and serialise it.
(2) Quote storage: the database server's CPU per stored quote, the service's table against json/pglz.
(3) Over HTTP: starts the pricing service as its own process on a fresh database (like the tests),
    then a second process sends ``POST /v1/estimates`` at a steady open-loop rate (default 100/s) and
    reports latency p50/p90/p99/max, measured from each request's scheduled send time (so a stall
    delays the requests queued behind it too, no coordinated omission), and the error count.
Each part prints a baseline measured in the same run. Prints figures; asserts nothing. Needs the local
Kafka and Postgres (`make setup`).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import orjson  # noqa: E402

from services.pricing.domain import estimate, estimate_payload, pricing_item_from_payload  # noqa: E402
from services.pricing.domain.estimate_request import parse_estimate_request, parse_json_body  # noqa: E402
from services.pricing.domain.resolve import _cell, _selections, grid_cells  # noqa: E402
from shared.grid import CellId, is_whole  # noqa: E402
from shared.vocabulary import _UUIDS, OrderItem, _canonical_guids  # noqa: E402

DSN = os.environ.get("DATABASE_URL", "postgresql://tessera:tessera@127.0.0.1:25432/tessera")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def payload() -> dict:
    """500 whole tiles of zone 33N and 2,000 minitiles of 8 further tiles; daily for 2025."""
    whole = [c for row in range(60, 160) for col in range(3, 17)
             if is_whole(c := CellId(33, False, col, row))]
    tiles = [c.guid for c in whole[:500]]
    minis = [t.minitile_at(m).guid for t in whole[500:508] for m in range(250)]
    return {"tile_guids": tiles, "minitile_guids": minis, "model": "Stratus2",
            "constellations": ["Sentinel1", "Sentinel2", "Landsat89"],
            "from": "2025-01-01", "to": "2025-12-31", "image_frequency": 1}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def show(name: str, ms: list[float]) -> None:
    print(f"  {name:<44} n={len(ms):<5} p50 {pct(ms, 50):7.1f} ms   p90 {pct(ms, 90):7.1f} ms   "
          f"p99 {pct(ms, 99):7.1f} ms   max {max(ms):7.1f} ms")


def in_process(repeat: int) -> None:
    body = payload()
    item = OrderItem.model_validate(body)
    resolved = pricing_item_from_payload(item, label="item", cells=grid_cells(item))
    day = date(2026, 1, 15)
    estimate([resolved], checkout_day=day)  # warm-up (caches)
    calc, full, cold = [], [], []
    for _ in range(repeat):
        t = time.perf_counter()
        estimate([resolved], checkout_day=day)
        calc.append((time.perf_counter() - t) * 1000)
    raw = json.dumps(body).encode()

    def whole_path() -> None:  # as services.pricing.usecases does it, minus HTTP and the database
        parsed, _ = parse_json_body(raw)
        [(_, item)] = parse_estimate_request(parsed).items
        cells = grid_cells(item)
        result = estimate([pricing_item_from_payload(item, label="item", cells=cells)], checkout_day=day)
        orjson.dumps(estimate_payload(result))

    for _ in range(repeat):
        _cell.cache_clear()
        _selections.clear()
        t = time.perf_counter()
        whole_path()
        cold.append((time.perf_counter() - t) * 1000)
    def baseline_path() -> None:  # the same with the standard library's json (the service's JSON before orjson)
        parsed = json.loads(raw)
        [(_, item)] = parse_estimate_request(parsed).items
        cells = grid_cells(item)
        result = estimate([pricing_item_from_payload(item, label="item", cells=cells)], checkout_day=day)
        json.dumps(estimate_payload(result), separators=(",", ":"))

    stdlib = []
    for _ in range(repeat):  # interleaved with its baseline, so the machine's noise hits both alike
        t = time.perf_counter()
        whole_path()
        full.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        baseline_path()
        stdlib.append((time.perf_counter() - t) * 1000)
    guids = body["tile_guids"] + body["minitile_guids"]
    bulk, per_guid = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        _canonical_guids(guids, lambda v: v)
        bulk.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        _UUIDS.validate_python(guids)
        per_guid.append((time.perf_counter() - t) * 1000)
    lines = estimate([resolved], checkout_day=day)
    print(f"In-process ({len(body['tile_guids'])} tiles + {len(body['minitile_guids'])} minitiles, "
          f"365 daily dates; total EUR {lines.total}, {len(lines.lines)} lines):")
    show("calculator only (estimate)", calc)
    show("validate + cells (cached) + price + JSON", full)
    show("validate + cells (cold cache) + price + JSON", cold)
    show("baseline: the same (cached), stdlib json", stdlib)
    show(f"GUID check, bulk ({len(guids)} GUIDs)", bulk)
    show("baseline: a UUID per GUID (pydantic)", per_guid)


async def quote_storage(n: int = 200) -> None:
    """What storing one quote costs the database server: the service's table (text, lz4) against a
    baseline table (json columns, default pglz compression), same documents, same connection."""
    import asyncpg

    from tests.support import infra

    body = payload()
    request = json.dumps(body)
    parsed, _ = parse_json_body(request)
    [(_, item)] = parse_estimate_request(parsed).items
    result = estimate([pricing_item_from_payload(item, label="item", cells=grid_cells(item))],
                      checkout_day=date(2026, 1, 15))
    response = orjson.dumps(estimate_payload(result)).decode()
    database = await infra.fresh_database(DSN)
    conn = await asyncpg.connect(database)
    try:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        local = Path(f"/proc/{pid}/stat").exists()
        print(f"Quote storage ({len(request) // 1024} KiB request + {len(response) // 1024} KiB response, "
              f"{n} inserts each"
              f"{', server CPU read from /proc' if local else ''}):")
        for name, typ, lz4 in (("baseline: json columns, pglz", "json", False),
                               ("service: text columns, lz4", "text", True)):
            await conn.execute(f"CREATE TABLE q (id uuid PRIMARY KEY, request {typ} NOT NULL, response {typ} NOT NULL)")
            if lz4:
                await conn.execute("ALTER TABLE q ALTER COLUMN request SET COMPRESSION lz4, "
                                   "ALTER COLUMN response SET COMPRESSION lz4")
            cpu0 = _cpu_seconds(pid) if local else 0.0
            t = time.perf_counter()
            for _ in range(n):
                await conn.execute(f"INSERT INTO q VALUES ($1, $2::text::{typ}, $3::text::{typ})",
                                   uuid.uuid4(), request, response)
            wall = (time.perf_counter() - t) / n * 1000
            cpu = ((_cpu_seconds(pid) - cpu0) / n * 1000) if local else float("nan")
            size = await conn.fetchval("SELECT pg_total_relation_size('q')") / n / 1024
            print(f"  {name:<44} wall {wall:5.2f} ms   server CPU {cpu:5.2f} ms   {size:4.0f} KiB per quote")
            await conn.execute("DROP TABLE q")
    finally:
        await conn.close()
        await infra.drop_database(DSN, database)


# ------------------------------------------------------------------------------ HTTP load


MAX_CONNECTIONS = 64


def load_process(url: str, token: str, rate: float, seconds: float, out) -> None:
    """The second process: open-loop load at ``rate``/s for ``seconds``; sends back latencies.

    Kept cheap so it is never the bottleneck (it shares the CPUs with the service and Postgres):
    the request (head + body) is encoded once and written as raw bytes on kept-alive HTTP/1.1
    connections (a small pool, grown only when every connection is busy); the response is read
    by its Content-Length and only its status is checked, its JSON is never parsed."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    body = json.dumps(payload()).encode()
    request = (f"POST /v1/estimates HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
               f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body

    async def main():
        latencies, errors, statuses, kinds = [], 0, {}, {}
        idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        opened = []
        in_flight = asyncio.Semaphore(MAX_CONNECTIONS)  # requests beyond it wait (their latency counts)

        async def send() -> int:
            conn = idle.pop() if idle else None
            while conn is not None and conn[0].at_eof():  # closed by the server while idle (keep-alive
                conn[1].close()                           # timeout): dropped, as HTTP clients do
                conn = idle.pop() if idle else None
            if conn is None:
                conn = await asyncio.open_connection(host, port)
                opened.append(conn)
            reader, writer = conn
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = None
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            if length is None:
                raise ConnectionError("response without Content-Length")
            await reader.readexactly(length)
            if close:
                writer.close()
            else:
                idle.append(conn)
            return status

        for _ in range(5):  # warm-up (connection, caches)
            await send()

        async def one(at: float):
            nonlocal errors
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                async with in_flight:
                    status = await send()
                statuses[status] = statuses.get(status, 0) + 1
                if status != 201:
                    errors += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                errors += 1
                kinds[type(exc).__name__] = kinds.get(type(exc).__name__, 0) + 1
            latencies.append((time.perf_counter() - at) * 1000)

        start = time.perf_counter() + 0.1
        n = int(rate * seconds)
        await asyncio.gather(*(one(start + i / rate) for i in range(n)))
        elapsed = time.perf_counter() - start
        for _, writer in opened:
            writer.close()
        out.send({"cpu": time.process_time(), "latencies": latencies, "errors": errors, "statuses": statuses,
                  "elapsed": elapsed, "n": n, "connections": len(opened), "kinds": kinds})

    asyncio.run(main())


async def over_http(rate: float, seconds: float) -> None:
    from shared.auth import mint
    from tests.support import infra
    from tests.support.services import ServiceProcess

    database = await infra.fresh_database(DSN)
    os.environ.setdefault("TESSERA_TEST_PORT_BASE", "18600")
    svc = ServiceProcess("pricing", database, KAFKA)
    svc.port = int(os.environ.get("PRICING_BENCH_PORT", "18603"))
    svc.base_url = f"http://127.0.0.1:{svc.port}"
    svc.env["PRICING_PORT"] = str(svc.port)
    svc.env["PRICING_LOG_LEVEL"] = "WARNING"
    try:
        svc.start()
        await svc.wait_ready()
        cpu_before = _cpu_seconds(svc.proc.pid)
        parent, child = mp.Pipe()
        proc = mp.get_context("spawn").Process(target=load_process,
                                               args=(svc.base_url, mint("bench"), rate, seconds, child))
        proc.start()
        result = await asyncio.to_thread(parent.recv)
        proc.join()
        service_cpu = _cpu_seconds(svc.proc.pid) - cpu_before
        lat = result["latencies"]
        print(f"Over HTTP (pricing as its own process, load from a second process, {rate:.0f} req/s open loop "
              f"for {seconds:.0f} s; request ~{len(json.dumps(payload())) // 1024} KiB; "
              "each quote stored in Postgres):")
        show("POST /v1/estimates", lat)
        p99 = pct(lat, 99)
        print(f"  aim: p99 under 100 ms at 100 req/s -> p99 {p99:.1f} ms at {rate:.0f} req/s: "
              f"{'met' if p99 < 100 and rate >= 100 and not result['errors'] else 'NOT met'}")
        print(f"  achieved {result['n'] / result['elapsed']:.1f} req/s; statuses {result['statuses']}; "
              f"errors {result['errors']} {result['kinds'] or ''}; mean {statistics.mean(lat):.1f} ms")
        done = sum(result["statuses"].values()) + 5
        print(f"  service CPU {service_cpu:.1f} s for {done} requests = "
              f"{service_cpu / done * 1000:.1f} ms CPU per request "
              f"(its one event loop saturates near {done / service_cpu:.0f} req/s on one core)")
        print(f"  load process CPU {result['cpu']:.1f} s = {result['cpu'] / done * 1000:.1f} ms per request, "
              f"{result['connections']} kept-alive connections (it shares the {os.cpu_count()} CPUs with the service "
              f"and Postgres)")
    finally:
        svc.stop()
        await svc.client.aclose()
        await infra.drop_database(DSN, database)


def _cpu_seconds(pid: int) -> float:
    """user + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    print(f"bench/pricing.py at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
    in_process(args.repeat)
    if not args.skip_http:
        asyncio.run(quote_storage())
        asyncio.run(over_http(args.rate, args.seconds))


if __name__ == "__main__":
    main()
