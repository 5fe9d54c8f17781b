"""Outbox benchmark: sustained throughput and commit-to-publish latency, next to a bare aiokafka producer.

    python bench/outbox.py [--events 20000] [--rate 500] [--seconds 10]

(1) Throughput: N events committed to the outbox, then one relay publishes them (events/s from the
    relay's start to the last broker ack), vs a bare idempotent acks=all producer sending the same
    N messages. (2) Latency at a fixed rate: one event per transaction at R/s; latency = broker ack
    time - commit time (published_at - created_at, both from the database clock), vs bare send->ack.
Prints figures and ratios; asserts nothing. Needs the local Kafka and Postgres (`make setup`).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg  # noqa: E402
from aiokafka import AIOKafkaProducer  # noqa: E402

from shared.db import create_pool, migrate  # noqa: E402
from shared.envelope import Envelope, kafka_headers  # noqa: E402
from shared.outbox import Outbox, OutboxRelay  # noqa: E402
from shared.topics import ensure_topics  # noqa: E402
from tests.support.contracts import ProbeEvent  # noqa: E402

DSN = os.environ.get("DATABASE_URL", "postgresql://tessera:tessera@127.0.0.1:25432/tessera")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def bare_throughput(topic, n):
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        start = time.perf_counter()
        futs = []
        for i in range(n):
            env = Envelope(type="test.probe.v1", source="/bench", subject=f"k{i % 50}")
            futs.append(await producer.send(topic, value=json.dumps({"key": f"k{i % 50}", "seq": i}).encode(),
                                            key=f"k{i % 50}".encode(), headers=kafka_headers(env.headers())))
        await asyncio.gather(*futs)
        return n / (time.perf_counter() - start)
    finally:
        await producer.stop()


async def outbox_throughput(pool, schema, topic, n):
    outbox = Outbox(schema)
    for start in range(0, n, 500):
        async with pool.acquire() as conn, conn.transaction():
            for i in range(start, min(n, start + 500)):
                await outbox.add(conn, ProbeEvent(key=f"k{i % 50}", seq=i), topic=topic)
    relay = OutboxRelay(DSN, schema, KAFKA, service=schema, poll_seconds=0.05, batch_size=1000)
    t0 = time.perf_counter()
    task = asyncio.create_task(relay.run())
    while await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") > 0:
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - t0
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await relay.stop_producer()
    return n / elapsed


async def outbox_latency(pool, schema, topic, rate, seconds):
    await pool.execute("DELETE FROM outbox")
    outbox = Outbox(schema)
    relay = OutboxRelay(DSN, schema, KAFKA, service=schema, poll_seconds=0.5)
    task = asyncio.create_task(relay.run())
    await asyncio.sleep(2.5)  # let it claim its shards
    n = int(rate * seconds)
    t0 = time.perf_counter()
    for i in range(n):
        async with pool.acquire() as conn, conn.transaction():
            await outbox.add(conn, ProbeEvent(key=f"k{i % 50}", seq=i), topic=topic)
        delay = t0 + (i + 1) / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    achieved = n / (time.perf_counter() - t0)
    while await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") > 0:
        await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await relay.stop_producer()
    rows = await pool.fetch("SELECT extract(epoch FROM published_at - created_at) * 1000 AS ms FROM outbox")
    return [float(r["ms"]) for r in rows], achieved


async def bare_latency(topic, rate, seconds):
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    lat = []

    async def one(i):
        t = time.perf_counter()
        fut = await producer.send(topic, value=json.dumps({"key": f"k{i % 50}", "seq": i}).encode(),
                                  key=f"k{i % 50}".encode())
        await fut
        lat.append((time.perf_counter() - t) * 1000)

    try:
        n = int(rate * seconds)
        t0 = time.perf_counter()
        tasks = []
        for i in range(n):
            tasks.append(asyncio.create_task(one(i)))
            delay = t0 + (i + 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await asyncio.gather(*tasks)
    finally:
        await producer.stop()
    return lat


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    run = uuid.uuid4().hex[:8]
    schema, topic = f"bench_{run}", f"bench.{run}.events"
    await migrate(DSN, schema, None)
    await ensure_topics(KAFKA, [topic], partitions=6)
    pool = await create_pool(DSN, schema, max_size=4)
    try:
        bare = await bare_throughput(topic, a.events)
        ob = await outbox_throughput(pool, schema, topic, a.events)
        print(f"throughput  bare aiokafka producer : {bare:9.0f} events/s  ({a.events} events, acks=all, idempotent)")
        print(f"throughput  outbox relay           : {ob:9.0f} events/s  (commit -> broker ack)")
        print(f"throughput  ratio outbox/bare      : {ob / bare:9.2f}")
        lat, achieved = await outbox_latency(pool, schema, topic, a.rate, a.seconds)
        blat = await bare_latency(topic, a.rate, a.seconds)
        print(f"latency at {a.rate:.0f}/s for {a.seconds:.0f}s (achieved {achieved:.0f}/s):")
        print(f"  outbox commit->ack   p50 {pct(lat, 50):7.1f} ms   p99 {pct(lat, 99):7.1f} ms   "
              f"mean {statistics.mean(lat):6.1f} ms")
        print(f"  bare   send->ack     p50 {pct(blat, 50):7.1f} ms   p99 {pct(blat, 99):7.1f} ms   "
              f"mean {statistics.mean(blat):6.1f} ms")
        print(f"  ratio p50 outbox/bare {pct(lat, 50) / pct(blat, 50):.1f}x, p99 {pct(lat, 99) / pct(blat, 99):.1f}x")
    finally:
        await pool.close()
        conn = await asyncpg.connect(DSN)
        await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
