"""POST /v1/checkouts needs an Idempotency-Key (shared.idempotency): a retry of the same request replays
the first 202 answer without starting another checkout, another request under the key is refused. An
admin's top-up takes one with the same meaning, the key being the reference of its ledger row.

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


async def _top_up(checkout, account: str, amount: str, key: str | None, admin: str = "ops"):
    headers = checkout.auth(admin, admin=True) | ({"Idempotency-Key": key} if key is not None else {})
    return await checkout.client.post(f"/v1/accounts/{account}/credits", json={"amount": amount}, headers=headers)


async def test_a_top_up_retry_replays_its_answer_and_credits_once(checkout):
    account, key = f"acct-topup-{uuid.uuid4().hex[:8]}", f"k-{uuid.uuid4()}"
    first = await _top_up(checkout, account, "10.50", key)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers, first.text
    assert first.json()["balance"] == "10.50" and first.json()["ledger"][-1]["ref"] == key
    again = await _top_up(checkout, account, "10.5", key)  # the same amount
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (200, "true")
    assert again.json() == first.json()
    other = await _top_up(checkout, account, "20.00", key)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    elsewhere = await _top_up(checkout, f"{account}-b", "10.50", key)  # another account: another request
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (422, "idempotency_key_reused")
    read = await checkout.client.get(f"/v1/accounts/{account}/credits", headers=checkout.auth("ops", admin=True))
    assert read.json()["balance"] == "10.50"


async def test_top_ups_without_a_key_each_post_under_a_generated_reference(checkout):
    account = f"acct-topup-{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        assert (await _top_up(checkout, account, "1.00", None)).status_code == 200
    body = (await _top_up(checkout, account, "1.00", None)).json()
    assert body["balance"] == "3.00"
    refs = [row["ref"] for row in body["ledger"]]
    assert len(set(refs)) == 3 and all(r.startswith("topup-") for r in refs)


async def test_a_key_the_ledger_holds_is_refused_once_its_replay_is_forgotten(checkout, database_url):
    account, key = f"acct-topup-{uuid.uuid4().hex[:8]}", f"k-{uuid.uuid4()}"
    assert (await _top_up(checkout, account, "5.00", key)).status_code == 200
    # another admin account, or the same after the key's retention: the ledger still holds the top-up
    again = await _top_up(checkout, account, "5.00", key, admin="ops-2")
    assert (again.status_code, again.json()["code"]) == (422, "idempotency_key_reused")
    conn = await asyncpg.connect(database_url, server_settings={"search_path": "checkout"})
    try:
        assert await conn.fetchval("SELECT balance FROM accounts WHERE account_id = $1", account) == 5
        assert await conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", key) == 1
    finally:
        await conn.close()
