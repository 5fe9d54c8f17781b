import asyncio
import json
import time
import uuid
from datetime import UTC

import pytest

from shared.contracts.partner import ProductionStatusReported
from tests.support.kafka import send_messages
from tests.support.services import running

pytestmark = pytest.mark.e2e

PARTNER = "/partners/acme"


@pytest.fixture(scope="module")
async def stack(database_url, kafka_bootstrap):
    """All five services as separate processes against the real Kafka and Postgres."""
    env = {"CHECKOUT_STEP_TIMEOUT_SECONDS": "45", "CHECKOUT_PARTNERS": json.dumps({PARTNER: ["acct-partnered"]}),
           "CHECKOUT_RENEWAL_INTERVAL_SECONDS": "3600"}
    async with running(["aoi", "tiling", "pricing", "cart", "checkout"], database_url, kafka_bootstrap, env) as svcs:
        yield svcs


class Dashboard:
    """Drives the services over HTTP like the dashboard does, for one account."""

    def __init__(self, stack, account: str):
        self.s, self.account = stack, account
        self.h = stack["aoi"].auth(account)
        self.admin = stack["aoi"].auth("ops", admin=True)

    async def top_up(self, amount: str):
        r = await self.s["checkout"].client.post(f"/v1/accounts/{self.account}/credits", json={"amount": amount},
                                                 headers=self.admin)
        assert r.status_code == 200, r.text
        return r.json()

    async def credits(self):
        r = await self.s["checkout"].client.get(f"/v1/accounts/{self.account}/credits", headers=self.h)
        assert r.status_code == 200, r.text
        return r.json()

    async def upload_aoi(self, name: str, content: bytes, filename: str):
        r = await self.s["aoi"].client.post("/v1/aois", files={"file": (filename, content)}, headers=self.h)
        assert r.status_code == 201, r.text
        return r.json()

    async def new_cart(self):
        r = await self.s["cart"].client.post("/v1/carts", json={}, headers=self.h)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    async def add_item(self, cart_id: str, item: dict):
        r = await self.s["cart"].client.post(f"/v1/carts/{cart_id}/items", json=item, headers=self.h)
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def cart(self, cart_id: str):
        r = await self.s["cart"].client.get(f"/v1/carts/{cart_id}", headers=self.h)
        assert r.status_code == 200, r.text
        return r.json()

    async def checkout(self, cart_id: str, accepted_total: str, key: str | None = None):
        r = await self.s["checkout"].client.post(
            "/v1/checkouts", json={"cart_id": cart_id, "accepted_total": accepted_total},
            headers={**self.h, "Idempotency-Key": key or str(uuid.uuid4())})
        assert r.status_code == 202, r.text
        return r.json()

    async def wait_checkout(self, checkout_id: str, timeout: float = 90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = await self.s["checkout"].client.get(f"/v1/checkouts/{checkout_id}", headers=self.h)
            body = r.json()
            if body["status"] in ("completed", "failed"):
                return body
            await asyncio.sleep(0.3)
        raise AssertionError(f"checkout {checkout_id} still {body['step']} after {timeout}s")

    async def order(self, order_id: str):
        r = await self.s["checkout"].client.get(f"/v1/orders/{order_id}", headers=self.h)
        assert r.status_code == 200, r.text
        return r.json()


async def report_status(bootstrap: str, order_id: str, status: str, source: str = "/production"):
    """A production status report as a partner (or the pipeline) publishes it; returns its event id."""
    from datetime import datetime

    msg = ProductionStatusReported(order_id=order_id, status=status, reported_at=datetime.now(UTC))
    [event_id] = await send_messages(bootstrap, [msg], source=source)
    return event_id
