"""Transactional outbox: the writer (same transaction as the state change) and the relay.

Ordering. `Outbox.add` takes a transaction-scoped advisory lock on the message key before the
insert, so for one key the ids are allocated in commit order (a second writer of that key waits
for the first to commit). The relay publishes each key's rows in id order and never skips a row:
a failed row blocks only its own key (retried with backoff) while other keys go on.

Several relays. Rows are spread over `SHARDS` shards by key; a relay publishes only shards it owns
through a session-level advisory lock, so one key is never published by two relays at once, and a
dead relay's shards are free as soon as its connection is gone. Relays share the shards fairly.

Producer errors. Any failed send retires the producer: the next round starts a new one (a new
producer id, so fresh sequence numbers) and re-sends each key from its first unacknowledged row.
An idempotent producer that hit a fatal error (`OutOfOrderSequenceNumber` after a broker restart,
say) never delivers again, and keeping it would block its keys for good. Order per key still holds:
within one producer the broker refuses a row whose predecessor is missing, and a new producer
starts again at the predecessor. When the broker comes back, rows waiting for a retry are due at
once. A relay that has had only failures for `stall_seconds` reports itself stalled (`/readyz`
and the `outbox_stalled_seconds` gauge).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge

from shared.contracts.base import Message
from shared.db import init_connection
from shared.envelope import Envelope, kafka_headers
from shared.logs import correlation_id as current_correlation_id

log = logging.getLogger("tessera.outbox")

SHARDS = 16  # fixed: the shard of a stored row must not change under a running relay
MEMBER_SLOT = 1_000_000  # advisory key2 held (shared) by every live relay, to count them

BACKLOG = Gauge("outbox_backlog", "Unpublished outbox rows", ["service"])
OLDEST_AGE = Gauge("outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row", ["service"])
PUBLISHED = Counter("outbox_published_total", "Outbox rows acknowledged by the broker", ["service"])
FAILED = Counter("outbox_publish_failures_total", "Outbox publish attempts that failed", ["service"])
OWNED = Gauge("outbox_shards_owned", "Outbox shards owned by this relay", ["service"])
STALLED = Gauge("outbox_stalled_seconds", "How long the relay has failed to publish anything (0 when healthy)",
                ["service"])
PRODUCERS = Counter("outbox_producers_started_total", "Producers the relay started (a new one after each error)",
                    ["service"])


def shard_of(key: str) -> int:
    return zlib.crc32(key.encode()) % SHARDS


@dataclass(frozen=True)
class Outbox:
    """The writer for one service: `await outbox.add(conn, message)` inside the state change's transaction."""

    service: str

    @property
    def source(self) -> str:
        return f"/services/{self.service}"

    @property
    def channel(self) -> str:
        return f"outbox_{self.service}"

    async def add(
        self,
        conn: asyncpg.Connection,
        message: Message,
        *,
        correlation_id: str | None = None,
        traceparent: str | None = None,
        topic: str | None = None,
    ) -> uuid.UUID:
        key = message.aggregate_id
        env = Envelope(
            type=message.TYPE,
            source=self.source,
            subject=key,
            correlation_id=correlation_id or current_correlation_id.get(),
            traceparent=traceparent,
        )
        # One round trip: lock the key, insert, and wake the relays (delivered on commit).
        await conn.execute(
            """
            WITH ordered AS (SELECT pg_advisory_xact_lock(hashtextextended($3 || '/' || $2, 0))),
                 ins AS (INSERT INTO outbox (event_id, topic, partition_key, event_type, payload, headers, shard)
                         SELECT $1, $2, $3, $4, $5, $6, $7 FROM ordered RETURNING 1)
            SELECT pg_notify($8, '') FROM ins
            """,
            env.id,
            topic or message.TOPIC,
            key,
            message.TYPE,
            message.model_dump(mode="json", by_alias=True),  # the shared vocabulary's names ("from")
            env.headers(),
            shard_of(key),
            self.channel,
        )
        return env.id


class OutboxRelay:
    """Publishes a service's outbox rows to Kafka: in order per key, at least once, acks=all, idempotent."""

    def __init__(
        self,
        dsn: str,
        schema: str,
        bootstrap: str,
        *,
        service: str | None = None,
        poll_seconds: float = 1.0,
        retention_seconds: int = 24 * 3600,
        batch_size: int = 500,
        max_backoff: float = 10.0,
        send_timeout: float = 3.0,
        stall_seconds: float = 60.0,
    ) -> None:
        self.dsn, self.schema, self.bootstrap = dsn, schema, bootstrap
        self.service = service or schema
        self.poll_seconds, self.retention_seconds = poll_seconds, retention_seconds
        self.batch_size, self.max_backoff, self.send_timeout = batch_size, max_backoff, send_timeout
        self.lock_ns = zlib.crc32(f"outbox:{schema}".encode()) & 0x7FFFFFFF
        self.owned: set[int] = set()
        self._wake = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._producer: AIOKafkaProducer | None = None
        self._last_balance = 0.0
        self._last_purge = 0.0
        self._last_metrics = 0.0
        self._known_topics: set[str] = set()
        self.stall_seconds = stall_seconds
        self._healthy_at = time.monotonic()  # the last moment the relay was not failing
        self._failing = False  # the latest round had failures and no success
        self._producer_broken = False
        self.last_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    async def run(self) -> None:
        """Run until cancelled; reconnects to Postgres and Kafka on failure."""
        while True:
            try:
                await self._connect()
                while True:
                    await self._tick()
            except asyncio.CancelledError:
                await self._close()
                raise
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("outbox relay lost its database connection: %r; reconnecting", exc)
                self._round_failed(exc)
                await self._close()
                await asyncio.sleep(1.0)
            except Exception as exc:  # never die silently: log, start over (shards are re-claimed)
                log.exception("outbox relay failed; restarting it")
                self._round_failed(exc)
                self._producer_broken = True
                await self._close()
                await asyncio.sleep(1.0)

    async def _connect(self) -> None:
        self._conn = await asyncpg.connect(self.dsn, server_settings={"search_path": f"{self.schema},public"})
        await init_connection(self._conn)
        await self._conn.execute("SELECT pg_advisory_lock_shared($1, $2)", self.lock_ns, MEMBER_SLOT)
        await self._conn.add_listener(f"outbox_{self.service}", lambda *_: self._wake.set())
        self.owned = set()

    async def _ensure_producer(self) -> bool:
        """A working producer, new after any error; False while the broker cannot be reached."""
        if self._producer is not None and not self._producer_broken:
            return True
        await self.stop_producer()
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            request_timeout_ms=15000,
            client_id=f"outbox-relay-{self.service}",
        )
        try:
            await producer.start()
        except Exception as exc:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 5)
            log.warning("outbox relay %s cannot reach the broker: %r", self.service, exc)
            self._round_failed(exc)
            return False
        self._producer, self._producer_broken = producer, False
        self._known_topics = set()
        PRODUCERS.labels(self.service).inc()
        return True

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        self.owned = set()
        OWNED.labels(self.service).set(0)
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 5)
            except Exception:
                conn.terminate()

    async def stop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:  # a producer whose broker is gone may wait for its pending batches: do not hang on it
                await asyncio.wait_for(producer.stop(), 10)
            except Exception as exc:
                log.info("outbox relay %s: old producer did not stop cleanly: %r", self.service, exc)

    # -- health ------------------------------------------------------------------------------------
    def stalled_for(self) -> float:
        """Seconds the relay has been failing without publishing anything (0 when it is not failing)."""
        return time.monotonic() - self._healthy_at if self._failing else 0.0

    @property
    def stalled(self) -> bool:
        return self.stalled_for() > self.stall_seconds

    def _round_failed(self, exc: BaseException) -> None:
        self._failing = True
        self.last_error = repr(exc)[:300]
        STALLED.labels(self.service).set(self.stalled_for())

    def _round_succeeded(self) -> None:
        self._failing = False
        self._healthy_at = time.monotonic()
        STALLED.labels(self.service).set(0)

    # -- one step ----------------------------------------------------------------------------------
    async def _tick(self) -> None:
        now = time.monotonic()
        if now - self._last_balance > 2.0:
            await self._balance()
            self._last_balance = now
        published = 0
        if not self.owned:
            self._round_succeeded()  # nothing to publish is not a failure
        elif await self._ensure_producer():
            published = await self.publish_once()
        if now - self._last_metrics > 5.0:
            await self._measure()
            self._last_metrics = now
        if now - self._last_purge > 60.0:
            await self._purge()
            self._last_purge = now
        if self._failing:
            STALLED.labels(self.service).set(self.stalled_for())
        if published < self.batch_size:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    async def _balance(self) -> None:
        """Own a fair share of the shards: ceil(SHARDS / live relays)."""
        assert self._conn is not None
        members = await self._conn.fetchval(
            "SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2"
            " AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            self.lock_ns,
            MEMBER_SLOT,
        )
        fair = math.ceil(SHARDS / max(1, members or 1))
        while len(self.owned) > fair:
            shard = max(self.owned)
            await self._conn.execute("SELECT pg_advisory_unlock($1, $2)", self.lock_ns, shard)
            self.owned.discard(shard)
        for shard in range(SHARDS):
            if len(self.owned) >= fair:
                break
            if shard in self.owned:
                continue
            if await self._conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", self.lock_ns, shard):
                self.owned.add(shard)
        OWNED.labels(self.service).set(len(self.owned))

    async def publish_once(self) -> int:
        """Publish one batch of due rows from the owned shards; returns how many were acknowledged."""
        assert self._conn is not None and self._producer is not None
        producer = self._producer  # the chains below send through the producer of this round
        rows = await self._conn.fetch(
            """
            WITH blocked AS (  -- keys whose head row failed and waits for its retry time
                SELECT DISTINCT shard, partition_key FROM outbox
                WHERE published_at IS NULL AND next_attempt_at > clock_timestamp() AND shard = ANY($1::int[]))
            SELECT id, topic, partition_key, payload, headers, attempts FROM outbox o
            WHERE published_at IS NULL AND shard = ANY($1::int[])
              AND NOT EXISTS (SELECT 1 FROM blocked b WHERE b.shard = o.shard AND b.partition_key = o.partition_key)
            ORDER BY id LIMIT $2
            """,
            list(self.owned),
            self.batch_size,
        )
        if not rows:
            self._round_succeeded()
            return 0
        # One chain per key: rows of a key are handed to the producer strictly in order and a chain
        # stops at its first failure; different keys proceed concurrently, so a key whose topic is
        # unknown (metadata wait) or whose send fails does not hold the others up.
        chains: dict[tuple[str, str], list[asyncpg.Record]] = {}
        for r in rows:
            chains.setdefault((r["topic"], r["partition_key"]), []).append(r)

        # Metadata once per topic, bounded: a topic the broker does not know fails its keys only.
        topic_error: dict[str, BaseException] = {}
        for topic in {t for t, _ in chains} - self._known_topics:
            try:
                await asyncio.wait_for(self._producer.partitions_for(topic), self.send_timeout)
                self._known_topics.add(topic)
            except Exception as exc:
                topic_error[topic] = exc

        async def run_chain(chain: list[asyncpg.Record]) -> tuple[list[int], tuple[int, int, BaseException] | None]:
            first = chain[0]
            if first["topic"] in topic_error:
                return [], (first["id"], first["attempts"], topic_error[first["topic"]])
            sent: list[tuple[asyncpg.Record, asyncio.Future[Any]]] = []
            failure: tuple[int, int, BaseException] | None = None
            for r in chain:
                try:
                    fut = await producer.send(
                        r["topic"],
                        value=json.dumps(r["payload"], separators=(",", ":")).encode(),
                        key=r["partition_key"].encode(),
                        headers=kafka_headers(r["headers"]),
                    )
                except Exception as exc:
                    failure = (r["id"], r["attempts"], exc)
                    break
                sent.append((r, fut))
            acked: list[int] = []
            for i, (r, fut) in enumerate(sent):
                try:
                    await fut
                except Exception as exc:
                    failure = (r["id"], r["attempts"], exc)  # later rows of the key stay unpublished
                    # let the key's later sends settle before this producer is retired
                    await asyncio.gather(*(f for _, f in sent[i + 1:]), return_exceptions=True)
                    break
                acked.append(r["id"])
            return acked, failure

        results = await asyncio.gather(*(run_chain(c) for c in chains.values()))
        ok = [i for acked, _ in results for i in acked]
        failed = {f[0]: f for _, f in results if f is not None}
        if ok:
            await self._conn.execute(
                "UPDATE outbox SET published_at = clock_timestamp() WHERE id = ANY($1::bigint[])", ok)
            PUBLISHED.labels(self.service).inc(len(ok))
            if self._failing:  # the broker answers again: keys waiting for a retry are due now
                await self._conn.execute(
                    "UPDATE outbox SET next_attempt_at = clock_timestamp() WHERE published_at IS NULL"
                    " AND next_attempt_at > clock_timestamp() AND shard = ANY($1::int[])", list(self.owned))
            self._round_succeeded()
        if failed:
            self._producer_broken = True  # a producer that failed a send may be fenced for good: retire it
            if not ok:
                self._round_failed(next(iter(failed.values()))[2])
        for row_id, attempts, error in failed.values():
            backoff = min(self.max_backoff, 0.2 * 2**attempts)
            FAILED.labels(self.service).inc()
            log.warning("outbox row %s failed to publish (attempt %s): %r", row_id, attempts + 1, error)
            await self._conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = $2,"
                " next_attempt_at = clock_timestamp() + make_interval(secs => $3) WHERE id = $1",
                row_id,
                repr(error)[:1000],
                backoff,
            )
        return len(ok)

    async def _measure(self) -> None:
        assert self._conn is not None
        row = await self._conn.fetchrow(
            "SELECT count(*) AS n, extract(epoch FROM clock_timestamp() - min(created_at)) AS age"
            " FROM outbox WHERE published_at IS NULL"
        )
        BACKLOG.labels(self.service).set(row["n"])
        OLDEST_AGE.labels(self.service).set(float(row["age"] or 0.0))

    async def _purge(self) -> None:
        assert self._conn is not None
        await self._conn.execute(
            "DELETE FROM outbox WHERE published_at < clock_timestamp() - make_interval(secs => $1)",
            float(self.retention_seconds),
        )
