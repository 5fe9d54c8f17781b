"""Checkout benchmark: sustained checkouts per second and end-to-end latency (POST -> completed).

    python bench/checkout.py [--checkouts 60] [--rate 4]

Starts all five services as processes on a fresh database (real Kafka and Postgres), prepares one
cart per checkout (one minitile, April 2025 every 3 days: EUR 10.24 each, so every checkout stays
in the first tier and its price is known in advance), then posts checkouts at a steady rate and
polls each until it is completed. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.grid import CellId  # noqa: E402
from tests.support import infra  # noqa: E402
from tests.support.services import running  # noqa: E402

ITEM = {"model": "Stratus2", "constellations": ["Sentinel1", "Sentinel2", "Landsat89"], "from": "2025-04-01",
        "to": "2025-04-30", "image_frequency": 3, "reference_date": "2025-01-01"}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkouts", type=int, default=60)
    ap.add_argument("--rate", type=float, default=4.0, help="checkouts started per second")
    a = ap.parse_args()
    bootstrap = infra.kafka_bootstrap()
    server = infra.server_url()
    db = await infra.fresh_database(server)
    account = f"bench-{uuid.uuid4().hex[:6]}"
    try:
        async with running(["aoi", "tiling", "pricing", "cart", "checkout"], db, bootstrap,
                           {"CHECKOUT_RENEWAL_INTERVAL_SECONDS": "3600"}) as s:
            h = s["cart"].auth(account)
            admin = s["cart"].auth("ops", admin=True)
            await s["checkout"].client.post(f"/v1/accounts/{account}/credits", json={"amount": "100000.00"}, headers=admin)
            carts = []
            for i in range(a.checkouts):
                cart = (await s["cart"].client.post("/v1/carts", json={}, headers=h)).json()["id"]
                guid = CellId(33, False, 10 + i // 256, 100, minitile=i % 256).guid
                r = await s["cart"].client.post(f"/v1/carts/{cart}/items", json={"minitile_guids": [guid], **ITEM}, headers=h)
                r.raise_for_status()
                carts.append(cart)
            latencies: list[float] = []
            outcomes: dict[str, int] = {}

            async def one(cart: str) -> None:
                t0 = time.perf_counter()
                r = await s["checkout"].client.post("/v1/checkouts", json={"cart_id": cart, "accepted_total": "10.24"},
                                                    headers={**h, "Idempotency-Key": str(uuid.uuid4())})
                cid = r.json()["id"]
                while True:
                    body = (await s["checkout"].client.get(f"/v1/checkouts/{cid}", headers=h)).json()
                    if body["status"] != "running":
                        break
                    await asyncio.sleep(0.05)
                latencies.append(time.perf_counter() - t0)
                key = body["status"] if body["status"] == "completed" else body["failure"]["code"]
                outcomes[key] = outcomes.get(key, 0) + 1

            start = time.perf_counter()
            tasks = []
            for i, cart in enumerate(carts):
                tasks.append(asyncio.create_task(one(cart)))
                delay = start + (i + 1) / a.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - start
            print(f"checkouts: {a.checkouts} at a target of {a.rate}/s -> outcomes {outcomes}")
            print(f"sustained: {a.checkouts / elapsed:.2f} checkouts/s over {elapsed:.1f} s (all five services, one machine)")
            print(f"latency POST -> completed: p50 {pct(latencies, 50) * 1000:.0f} ms  p99 {pct(latencies, 99) * 1000:.0f} ms"
                  f"  mean {statistics.mean(latencies) * 1000:.0f} ms")
    finally:
        await infra.drop_database(server, db)


if __name__ == "__main__":
    asyncio.run(main())
