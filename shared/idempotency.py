"""`Idempotency-Key` for every write route, with one meaning everywhere:

- a key is 1 to `MAX_KEY_LENGTH` printable characters, per account;
- the same key with the same request (method, path, body) replays the first response, with the header
  `Idempotent-Replayed: true`, without running the change again;
- the same key with another request is a 422 (`idempotency_key_reused`);
- two concurrent requests with one key: the second waits for the first and then replays it;
- a failed request (4xx/5xx raised before commit) leaves no trace: the key can be used again;
- keys are forgotten `retention` after first use (`purge`, run by every service's runtime).

The response is stored in the same transaction as the change it reports, so a crash cannot leave a
change without its replayable answer, nor an answer without its change.

Routes take the key through `optional_key` or `required_key` (FastAPI dependencies), which check it
with `key_of` and document the header, with these semantics, in the operation's OpenAPI.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from fastapi import Header, Request, Response
from fastapi.responses import JSONResponse

from shared.problems import Problem

MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"

Outcome = tuple[int, Any, dict[str, str]]  # status, JSON body (None for an empty body), headers


def key_of(request: Request, *, required: bool = False) -> str | None:
    """The request's Idempotency-Key, checked; None when absent (a 422 when `required`)."""
    key = request.headers.get(HEADER)
    if key is None:
        if required:
            raise Problem(422, "idempotency_key_required",
                          f"send an {HEADER} header (any unique string per attempt); retrying with the same key "
                          "replays the same response", errors=[{"field": HEADER, "message": "missing"}])
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Problem(422, "invalid_idempotency_key",
                      f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters",
                      errors=[{"field": HEADER, "message": "empty, too long or not printable"}])
    return key


_SEMANTICS = (f"1 to {MAX_KEY_LENGTH} printable characters, any unique string per attempt (a UUID). Retrying with "
              "the same key (per account) and the same request (method, path, body) replays the first response "
              "with the header `Idempotent-Replayed: true`, without running the change again; the same key with "
              "another request is a 422 `idempotency_key_reused`. A request refused with a 4xx or 5xx leaves no "
              "trace, so its key may be used again. Keys are forgotten some time after first use (a day by "
              "default).")


_OPTIONAL = f"Optional: makes a retry harmless. {_SEMANTICS}"
# declared optional even where it is required: a missing key is then our own 422 (idempotency_key_required,
# saying what to send), not FastAPI's generic validation error
_REQUIRED = f"Required on this operation (without it: 422 `idempotency_key_required`). {_SEMANTICS}"


async def optional_key(
    request: Request, idempotency_key: str | None = Header(None, alias=HEADER, description=_OPTIONAL),
) -> str | None:
    """The request's Idempotency-Key, checked by `key_of`; None without one."""
    # the parameter only documents the header; key_of reads it, the same way for every route
    return key_of(request)


async def required_key(
    request: Request, idempotency_key: str | None = Header(None, alias=HEADER, description=_REQUIRED),
) -> str:
    """The request's Idempotency-Key, checked by `key_of`; a 422 without one."""
    key = key_of(request, required=True)
    assert key is not None
    return key


def fingerprint(request: Request, body: Any) -> str:
    """What makes two requests the same: method, path and the parsed body."""
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.url.path}\n{canon}".encode()).hexdigest()


def respond(status: int, body: Any, headers: dict[str, str]) -> Response:
    if status == 204 or body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def _replay(row: asyncpg.Record, fp: str, key: str) -> Response:
    if row["fingerprint"] != fp:
        raise Problem(422, "idempotency_key_reused",
                      f"{HEADER} {key!r} was already used for a different request (another body, method or path); "
                      "send a new key for a new request",
                      errors=[{"field": HEADER, "message": "already used for a different request"}])
    return respond(row["status"], row["body"], {**(row["headers"] or {}), "Idempotent-Replayed": "true"})


class _KeyTaken(Exception):
    pass


async def run(pool: asyncpg.Pool, account: str, key: str | None, fp: str,
              apply: Callable[[asyncpg.Connection], Awaitable[Outcome]],
              prepare: Callable[[], Awaitable[None]] | None = None) -> Response:
    """Run `apply` in one transaction under the key (when there is one) and answer with its outcome.

    `prepare` runs first, outside the transaction (peer calls), and only when the key is new."""
    if key is not None:
        done = await _get(pool, account, key)
        if done is not None:
            return _replay(done, fp, key)
    if prepare is not None:
        await prepare()
    try:
        async with pool.acquire() as conn, conn.transaction():
            if key is not None and not await _claim(conn, account, key, fp):
                raise _KeyTaken()
            status, out, headers = await apply(conn)
            if key is not None:
                await conn.execute("UPDATE idempotency_keys SET status = $3, body = $4, headers = $5"
                                   " WHERE account_id = $1 AND key = $2", account, key, status, out, headers)
    except _KeyTaken:
        assert key is not None
        done = await _get(pool, account, key)
        if done is None:  # purged between the two reads: extremely unlikely, and the caller may retry
            raise Problem(409, "idempotency_key_in_flux", f"{HEADER} {key!r} is being reused; retry") from None
        return _replay(done, fp, key)
    return respond(status, out, headers)


async def _claim(conn: asyncpg.Connection, account: str, key: str, fp: str) -> bool:
    """Take the key for this transaction; False when it was used before (a concurrent user of the
    same key waits on the primary key until the first transaction ends)."""
    got = await conn.fetchval("INSERT INTO idempotency_keys (account_id, key, fingerprint) VALUES ($1, $2, $3)"
                              " ON CONFLICT DO NOTHING RETURNING true", account, key, fp)
    return bool(got)


async def _get(conn: asyncpg.Pool | asyncpg.Connection, account: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM idempotency_keys WHERE account_id = $1 AND key = $2", account, key)


async def purge(pool: asyncpg.Pool, retention_seconds: float, batch: int = 5000) -> int:
    """Forget keys first used more than `retention_seconds` ago; returns how many went."""
    status = await pool.execute(
        "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency_keys"
        " WHERE created_at < now() - make_interval(secs => $1::float8) LIMIT $2))", retention_seconds, batch)
    return int(status.split()[-1])
