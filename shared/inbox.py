"""Idempotent consumer (inbox) with dead-lettering.

For each message: the envelope and payload are checked (a malformed one goes straight to
`<topic>.dlq`), then, in ONE transaction, `(consumer, event id)` is inserted into the inbox and the
effect runs; a duplicate finds its inbox row and is skipped. The offset is committed only after
that transaction commits. Transient failures (database or broker unreachable) are retried without
limit, blocking the partition rather than losing a message; other failures go to the DLQ after
`max_attempts`, with the reason and the original headers, and the consumer moves on.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Histogram
from pydantic import ValidationError

from shared.contracts.base import REGISTRY, Message
from shared.envelope import Envelope, EnvelopeError, decode_headers, kafka_headers
from shared.logs import correlation_id

log = logging.getLogger("tessera.inbox")
M = TypeVar("M", bound=Message)

HANDLED = Counter("consumer_messages_total", "Messages handled", ["consumer", "outcome"])
HANDLE_SECONDS = Histogram("consumer_handle_seconds", "Time to apply (or skip, or dead-letter) one message",
                           ["consumer"])

TRANSIENT = (OSError, ConnectionError, asyncio.TimeoutError, asyncpg.PostgresConnectionError,
             asyncpg.InterfaceError, asyncpg.exceptions.SerializationError,
             asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.CannotConnectNowError,
             asyncpg.exceptions.TooManyConnectionsError, asyncpg.exceptions.InternalClientError)


class Reject(Exception):
    """Raised by an effect for a message that can never be applied (e.g. an illegal transition).

    The message goes to the DLQ with this reason at once; nothing of the effect is kept.
    """


@dataclass
class Incoming:
    """What an effect receives: the envelope, the typed payload and the raw record's coordinates."""

    envelope: Envelope
    message: Message
    topic: str
    partition: int
    offset: int

    def message_as(self, kind: type[M]) -> M:
        """The payload as the type the effect was registered for (effects are picked by ce_type)."""
        if not isinstance(self.message, kind):
            raise TypeError(f"{self.envelope.type} decoded to {type(self.message).__name__}, not {kind.__name__}")
        return self.message


Effect = Callable[[asyncpg.Connection, Incoming], Awaitable[None]]
UseCase = Callable[[Any, asyncpg.Connection, Any], Awaitable[None]]


def use_case_effects(rt: Any, use_cases: dict[type[Message], UseCase]) -> dict[str, Effect]:
    """Effects that decode their message as the type they are registered for and call
    `use_case(rt, conn, message)` in the inbox transaction: the whole of most consumers."""

    def effect(kind: type[Message], use_case: UseCase) -> Effect:
        async def run(conn: asyncpg.Connection, inc: Incoming) -> None:
            await use_case(rt, conn, inc.message_as(kind))
        return run

    return {kind.TYPE: effect(kind, use_case) for kind, use_case in use_cases.items()}


@dataclass
class Record:
    """The parts of a Kafka record the consumer needs (FastStream's or aiokafka's, normalised)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


class InboxConsumer:
    def __init__(
        self,
        name: str,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        *,
        accepts: dict[str, Effect],
        max_attempts: int = 5,
    ) -> None:
        self.name, self.pool, self.producer = name, pool, producer
        self.accepts = accepts
        self.max_attempts = max_attempts

    async def handle(self, rec: Record) -> str:
        """Process one record fully (effect applied, skipped, or dead-lettered); returns the outcome."""
        with HANDLE_SECONDS.labels(self.name).time():
            return await self._handle(rec)

    async def _handle(self, rec: Record) -> str:
        headers = decode_headers(rec.headers)
        try:
            env = Envelope.from_headers(headers)
            if env.type not in REGISTRY:
                raise EnvelopeError(f"ce_type {env.type!r} is not a known message type")
            effect = self.accepts.get(env.type)
            if effect is None:  # a known message meant for other consumers of the topic
                HANDLED.labels(self.name, "ignored").inc()
                return "ignored"
            model = REGISTRY[env.type]
            try:
                payload = json.loads(rec.value or b"")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise EnvelopeError(f"body is not JSON: {exc}") from None
            message = model.model_validate(payload)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            reason = f"schema: {where}: {first['msg']} ({exc.error_count()} error(s))"
            return await self._dead_letter(rec, headers, reason)
        except EnvelopeError as exc:
            return await self._dead_letter(rec, headers, str(exc))

        token = correlation_id.set(env.correlation_id)
        try:
            incoming = Incoming(env, message, rec.topic, rec.partition, rec.offset)
            attempt = 0
            while True:
                try:
                    outcome = await self._apply(effect, incoming)
                    HANDLED.labels(self.name, outcome).inc()
                    return outcome
                except Reject as exc:
                    return await self._dead_letter(rec, headers, str(exc))
                except TRANSIENT as exc:
                    log.warning("%s: transient failure on %s@%s: %r; retrying", self.name, rec.topic, rec.offset, exc)
                    await asyncio.sleep(min(5.0, 0.2 * 2 ** min(attempt, 5)))
                    attempt += 1
                except Exception as exc:  # a bug or bad data the schema let through: bounded retries
                    attempt += 1
                    log.exception("%s: failed on %s@%s (attempt %s)", self.name, rec.topic, rec.offset, attempt)
                    if attempt >= self.max_attempts:
                        return await self._dead_letter(rec, headers, f"failed {attempt} times: {exc!r}")
                    await asyncio.sleep(0.1 * 2**attempt)
        finally:
            correlation_id.reset(token)

    async def _apply(self, effect: Effect, incoming: Incoming) -> str:
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                fresh = await conn.fetchval(
                    "INSERT INTO inbox (consumer, event_id, topic) VALUES ($1, $2, $3)"
                    " ON CONFLICT DO NOTHING RETURNING true",
                    self.name,
                    incoming.envelope.id,
                    incoming.topic,
                )
                if not fresh:
                    return "duplicate"
                await effect(conn, incoming)
                return "applied"

    async def _dead_letter(self, rec: Record, headers: dict[str, str], reason: str) -> str:
        log.warning("%s: dead-lettering %s@%s/%s: %s", self.name, rec.topic, rec.partition, rec.offset, reason)
        dlq_headers = dict(headers)
        dlq_headers.update(
            {
                "dlq_reason": reason[:2000],
                "dlq_consumer": self.name,
                "dlq_original_topic": rec.topic,
                "dlq_original_partition": str(rec.partition),
                "dlq_original_offset": str(rec.offset),
            }
        )
        attempt = 0
        while True:  # the record is only acknowledged once the DLQ holds it
            try:
                await self.producer.send_and_wait(f"{rec.topic}.dlq", value=rec.value, key=rec.key,
                                                  headers=kafka_headers(dlq_headers))
                break
            except Exception as exc:
                attempt += 1
                log.warning("%s: DLQ publish failed (%r); retrying", self.name, exc)
                await asyncio.sleep(min(5.0, 0.2 * 2 ** min(attempt, 5)))
        HANDLED.labels(self.name, "dead_lettered").inc()
        return "dead_lettered"
