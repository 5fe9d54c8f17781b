"""One Idempotency-Key semantics for every service (shared.idempotency), against the real Postgres."""
import asyncio

import pytest
from starlette.requests import Request

from shared import idempotency
from shared.problems import Problem

pytestmark = pytest.mark.integration


def request(path: str = "/v1/things", method: str = "POST", key: str | None = "k-1") -> Request:
    headers = [(b"idempotency-key", key.encode())] if key is not None else []
    return Request({"type": "http", "method": method, "path": path, "headers": headers, "query_string": b""})


async def test_same_key_same_request_replays_and_another_request_is_refused(probe_schema):
    _, pool = probe_schema
    runs = []

    async def apply(conn):
        runs.append(1)
        await conn.execute("INSERT INTO things VALUES ($1, 1)", f"t{len(runs)}")
        return 201, {"id": f"t{len(runs)}"}, {"Location": f"/v1/things/t{len(runs)}"}

    req = request()
    fp = idempotency.fingerprint(req, {"name": "a"})
    first = await idempotency.run(pool, "acct", idempotency.key_of(req), fp, apply)
    again = await idempotency.run(pool, "acct", idempotency.key_of(req), fp, apply)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.body == again.body == b'{"id":"t1"}'
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Location"] == "/v1/things/t1"
    assert len(runs) == 1  # the change ran once
    with pytest.raises(Problem) as refused:
        await idempotency.run(pool, "acct", "k-1", idempotency.fingerprint(req, {"name": "b"}), apply)
    assert (refused.value.status, refused.value.code) == (422, "idempotency_key_reused")
    other_account = await idempotency.run(pool, "acct-2", "k-1", fp, apply)  # keys are per account
    assert other_account.status_code == 201 and len(runs) == 2


async def test_concurrent_requests_with_one_key_apply_once(probe_schema):
    _, pool = probe_schema
    runs = []

    async def apply(conn):
        runs.append(1)
        await asyncio.sleep(0.2)  # the second request arrives while the first is still in its transaction
        return 202, {"n": len(runs)}, {}

    fp = idempotency.fingerprint(request(), {})
    answers = await asyncio.gather(*(idempotency.run(pool, "acct", "same", fp, apply) for _ in range(4)))
    assert len(runs) == 1
    assert {a.body for a in answers} == {b'{"n":1}'}
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 3


async def test_a_failed_request_leaves_the_key_free(probe_schema):
    _, pool = probe_schema

    async def fails(conn):
        raise Problem(409, "conflict", "not now")

    async def works(conn):
        return 200, {"ok": True}, {}

    fp = idempotency.fingerprint(request(), {})
    with pytest.raises(Problem):
        await idempotency.run(pool, "acct", "retry-me", fp, fails)
    assert (await idempotency.run(pool, "acct", "retry-me", fp, works)).status_code == 200


def test_keys_are_checked_and_may_be_required():
    assert idempotency.key_of(request(key=None)) is None
    with pytest.raises(Problem) as missing:
        idempotency.key_of(request(key=None), required=True)
    assert missing.value.code == "idempotency_key_required"
    for bad in ("", "   ", "x" * 256, "tab\there"):
        with pytest.raises(Problem) as refused:
            idempotency.key_of(request(key=bad))
        assert refused.value.code == "invalid_idempotency_key"
    assert idempotency.key_of(request(key="x" * 255)) == "x" * 255


async def test_keys_are_purged_after_their_retention(probe_schema):
    _, pool = probe_schema

    async def works(conn):
        return 200, {}, {}

    fp = idempotency.fingerprint(request(), {})
    for key in ("old", "new"):
        await idempotency.run(pool, "acct", key, fp, works)
    await pool.execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'")
    assert await idempotency.purge(pool, 24 * 3600) == 1
    assert [r["key"] for r in await pool.fetch("SELECT key FROM idempotency_keys")] == ["new"]
