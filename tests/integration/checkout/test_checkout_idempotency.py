"""POST /v1/checkouts needs an Idempotency-Key (shared.idempotency): a retry of the same request replays
the first 202 answer without starting another checkout, another request under the key is refused.

The checkout service runs alone as a real process: a new checkout only writes its row and its first
commands to the outbox, so no other service is needed to answer.
"""
from __future__ import annotations

import uuid

import asyncpg
import pytest

from tests.support.services import running

pytestmark = pytest.mark.integration

ACCOUNT = f"acct-idem-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
async def checkout(database_url, kafka_bootstrap):
    async with running("checkout", database_url, kafka_bootstrap) as svc:
        yield svc


async def _post(checkout, body, key: str | None):
    headers = checkout.auth(ACCOUNT) | ({"Idempotency-Key": key} if key is not None else {})
    return await checkout.client.post("/v1/checkouts", json=body, headers=headers)


async def test_a_retry_replays_the_first_answer_and_starts_no_other_checkout(checkout, database_url):
    key, cart = f"k-{uuid.uuid4()}", f"cart-{uuid.uuid4().hex[:8]}"
    first = await _post(checkout, {"cart_id": cart, "accepted_total": "10.50"}, key)
    assert first.status_code == 202, first.text
    assert "Idempotent-Replayed" not in first.headers
    again = await _post(checkout, {"cart_id": cart, "accepted_total": "10.5"}, key)  # the same total
    assert again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and again.headers["Location"] == first.headers["Location"]
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "checkout"})
    try:
        assert await conn.fetchval("SELECT count(*) FROM checkouts WHERE account_id = $1 AND cart_id = $2",
                                   ACCOUNT, cart) == 1
    finally:
        await conn.close()


async def test_another_request_under_the_key_is_refused_and_a_missing_key_too(checkout):
    key, cart = f"k-{uuid.uuid4()}", f"cart-{uuid.uuid4().hex[:8]}"
    assert (await _post(checkout, {"cart_id": cart, "accepted_total": "1.00"}, key)).status_code == 202
    other = await _post(checkout, {"cart_id": cart, "accepted_total": "2.00"}, key)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    missing = await _post(checkout, {"cart_id": cart, "accepted_total": "1.00"}, None)
    assert (missing.status_code, missing.json()["code"]) == (422, "idempotency_key_required")
