"""Checkout benchmark: sustained checkouts per second and end-to-end latency (POST -> completed).

    python bench/checkout.py [--checkouts 60] [--rate 4]

Starts all five services as processes on a fresh database (real Kafka and Postgres), prepares one
cart per checkout, each for its own account (one minitile, April 2025 every 3 days: EUR 10.24 at
the first tier, so every price is known in advance), then posts checkouts at a steady rate and
polls each until it is completed. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
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


def consumer_means(metrics: str) -> list[str]:
    """'consumer: apply X ms / commit Y ms (n msgs)' from a service's Prometheus text."""
    import re
    sums: dict[tuple[str, str], float] = {}
    for kind in ("handle", "commit"):
        for metric in ("sum", "count"):
            for m in re.finditer(rf'consumer_{kind}_seconds_{metric}{{consumer="([^"]+)"}} ([0-9.e+-]+)', metrics):
                sums[(m.group(1), f"{kind}_{metric}")] = float(m.group(2))
    out = []
    for consumer in sorted({c for c, _ in sums}):
        n = sums.get((consumer, "handle_count"), 0) or 1
        commit_n = sums.get((consumer, "commit_count"), 0) or 1
        out.append(f"{consumer}: apply {sums.get((consumer, 'handle_sum'), 0) / n * 1000:.1f} ms / commit "
                   f"{sums.get((consumer, 'commit_sum'), 0) / commit_n * 1000:.1f} ms ({int(n)} msgs)")
    return out


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
            admin = s["cart"].auth("ops", admin=True)
            carts = []
            for i in range(a.checkouts):
                # one account per checkout: tiers are per account and month, so every price is EUR 10.24
                h = s["cart"].auth(f"{account}-{i}")
                await s["checkout"].client.post(f"/v1/accounts/{account}-{i}/credits", json={"amount": "100.00"},
                                                headers=admin)
                cart = (await s["cart"].client.post("/v1/carts", json={}, headers=h)).json()["id"]
                guid = CellId(33, False, 10 + i // 256, 100, minitile=i % 256).guid
                r = await s["cart"].client.post(f"/v1/carts/{cart}/items", json={"minitile_guids": [guid], **ITEM},
                                                headers=h)
                r.raise_for_status()
                carts.append((cart, h))
            latencies: list[float] = []
            outcomes: dict[str, int] = {}

            async def one(cart: str, h: dict) -> None:
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
            for i, (cart, h) in enumerate(carts):
                tasks.append(asyncio.create_task(one(cart, h)))
                delay = start + (i + 1) / a.rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - start
            print(f"checkouts: {a.checkouts} at a target of {a.rate}/s -> outcomes {outcomes}")
            print(f"sustained: {a.checkouts / elapsed:.2f} checkouts/s over {elapsed:.1f} s "
                  "(all five services, one machine)")
            print(f"latency POST -> completed: p50 {pct(latencies, 50) * 1000:.0f} ms  "
                  f"p99 {pct(latencies, 99) * 1000:.0f} ms"
                  f"  mean {statistics.mean(latencies) * 1000:.0f} ms")
            print("per consumer (mean ms per message: apply in the inbox transaction / offset commit):")
            for name, svc in s.items():
                text = (await svc.client.get("/metrics")).text
                print("  " + "; ".join(consumer_means(text)) if consumer_means(text) else f"  {name}: no consumers")
    finally:
        await infra.drop_database(server, db)


if __name__ == "__main__":
    asyncio.run(main())
