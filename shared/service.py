"""The composition root every service shares: settings → DB (migrations, pool) → topics → Kafka
(producer, FastStream subscribers with inbox) → outbox relay → HTTP server. One process, one loop.

A service declares a `ServiceSpec` (its routers, consumers and background jobs) and calls `run`.
Handlers reach what they need through `Runtime` (`request.app.state.rt` in routes).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import uvicorn
from aiokafka import AIOKafkaProducer, TopicPartition
from fastapi import APIRouter, FastAPI
from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.specification import AsyncAPI
from prometheus_client import Gauge, Histogram

from shared import idempotency
from shared.auth import TokenVerifier
from shared.contracts.base import Message
from shared.db import create_pool, migrate
from shared.http import create_app
from shared.inbox import Effect, InboxConsumer, Record
from shared.logs import setup_logging
from shared.outbox import Outbox, OutboxRelay
from shared.settings import ServiceSettings
from shared.topics import TOPICS, ensure_topics

log = logging.getLogger("tessera.service")
COMMIT_SECONDS = Histogram("consumer_commit_seconds", "Time to commit a consumer's offset", ["consumer"])
LAG = Gauge("consumer_lag", "Messages behind the partition's high watermark", ["consumer", "topic", "partition"])


@dataclass
class Runtime:
    """What a running service holds; passed to consumers and background jobs, in app.state.rt for routes."""

    name: str
    settings: ServiceSettings
    pool: asyncpg.Pool
    outbox: Outbox
    producer: AIOKafkaProducer
    http: httpx.AsyncClient

    async def broker_problem(self, timeout: float = 3.0) -> str | None:
        """None when the broker answers a metadata request now; otherwise what went wrong."""
        try:
            await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout)
            return None
        except Exception as exc:
            return f"unreachable: {exc!r}"[:200]


@dataclass
class ConsumerSpec:
    """A consumer group on some topics; `effects(rt)` maps each accepted ce_type to its effect."""

    name: str
    topics: tuple[str, ...]
    effects: Callable[[Runtime], dict[str, Effect]]


@dataclass
class ServiceSpec:
    name: str
    settings: ServiceSettings
    migrations: Path | None
    routers: list[APIRouter] = field(default_factory=list)
    consumers: list[ConsumerSpec] = field(default_factory=list)
    background: list[Callable[[Runtime], Coroutine[Any, Any, None]]] = field(default_factory=list)
    on_start: Callable[[Runtime], Awaitable[None]] | None = None
    relay: bool = True
    publishes: tuple[type[Message], ...] = ()  # what its outbox sends: documented in its AsyncAPI


async def _raw(msg: KafkaMessage) -> bytes:  # keep the body as bytes: the inbox validates it and dead-letters bad ones
    return msg.body


def build_broker(spec: ServiceSpec, consumers: list[InboxConsumer]) -> KafkaBroker:
    s = spec.settings
    broker = KafkaBroker(s.kafka_bootstrap_servers, client_id=f"tessera-{spec.name}", logger=None)
    for cs, consumer in zip(spec.consumers, consumers, strict=True):
        def make(consumer: InboxConsumer) -> Callable[[KafkaMessage], Coroutine[Any, Any, None]]:
            async def handle(msg: KafkaMessage) -> None:
                r = msg.raw_message
                if isinstance(r, tuple):  # subscribers here are never batch subscribers
                    raise TypeError(f"{consumer.name}: got a batch of {len(r)} records")
                await consumer.handle(Record(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers or ())))
                with COMMIT_SECONDS.labels(consumer.name).time():
                    await msg.ack()  # only now is the offset committed
                kafka_consumer = getattr(msg, "consumer", None)
                highwater = kafka_consumer.highwater(TopicPartition(r.topic, r.partition)) if kafka_consumer else None
                if highwater is not None:
                    LAG.labels(consumer.name, r.topic, str(r.partition)).set(max(0, highwater - r.offset - 1))
            handle.__name__ = consumer.name.replace("-", "_")
            return handle

        broker.subscriber(
            *cs.topics,
            group_id=f"{spec.name}.{cs.name}",
            ack_policy=AckPolicy.MANUAL,
            decoder=_raw,
            auto_offset_reset="earliest",
            title=f"{spec.name}.{cs.name}",
            description="accepts: " + ", ".join(sorted(consumer.accepts)),
        )(make(consumer))
    for message in spec.publishes:  # published by the outbox relay, declared here for the AsyncAPI document
        broker.publisher(message.TOPIC, title=message.TYPE, schema=message,
                         description=(message.__doc__ or "").strip() or f"{message.TYPE} on {message.TOPIC}")
    return broker


async def purge_idempotency_keys(rt: Runtime) -> None:
    """Background job of every service: forget Idempotency-Keys after their retention."""
    s = rt.settings
    while True:
        await asyncio.sleep(s.idempotency_purge_seconds)
        try:
            while await idempotency.purge(rt.pool, s.idempotency_retention_seconds) > 0:
                pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("purging idempotency keys failed; trying again later")


def build_app(spec: ServiceSpec) -> FastAPI:
    s = spec.settings
    state: dict[str, Any] = {}

    async def readiness(app: FastAPI) -> dict[str, str]:
        checks = {"database": "unknown", "broker": "unknown"}
        rt: Runtime | None = state.get("rt")
        if rt is None:
            return {"startup": "in progress"}
        try:
            await asyncio.wait_for(rt.pool.fetchval("SELECT 1"), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {exc!r}"[:200]
        checks["broker"] = await rt.broker_problem() or "ok"
        relay: OutboxRelay | None = state.get("relay")
        if relay is not None:
            checks["outbox"] = (f"stalled: nothing published for {relay.stalled_for():.0f} s ({relay.last_error})"[:200]
                                if relay.stalled else "ok")
        return checks

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        applied = await migrate(s.database_url, spec.name, spec.migrations)
        if applied:
            log.info("applied migrations %s", applied)
        await ensure_topics(s.kafka_bootstrap_servers, TOPICS, partitions=s.topic_partitions)
        pool = await create_pool(s.database_url, spec.name, min_size=s.db_pool_min, max_size=s.db_pool_max)
        producer = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap_servers, acks="all",
                                    enable_idempotence=True, client_id=f"tessera-{spec.name}-dlq")
        await producer.start()
        rt = Runtime(spec.name, s, pool, Outbox(spec.name), producer, httpx.AsyncClient(timeout=5.0))
        app.state.rt = rt
        consumers = [
            InboxConsumer(f"{spec.name}.{cs.name}", pool, producer, accepts=cs.effects(rt),
                          max_attempts=s.consumer_max_attempts)
            for cs in spec.consumers
        ]
        broker = build_broker(spec, consumers)
        app.state.asyncapi = FastStream(broker, specification=AsyncAPI(title=f"Tessera {spec.name}", version="0.1.0"))
        if spec.on_start:
            await spec.on_start(rt)
        tasks: list[asyncio.Task[None]] = []
        relay = None
        if spec.relay:
            relay = OutboxRelay(s.database_url, spec.name, s.kafka_bootstrap_servers, service=spec.name,
                                poll_seconds=s.outbox_poll_seconds, retention_seconds=s.outbox_retention_seconds,
                                stall_seconds=s.outbox_stall_seconds)
            state["relay"] = relay
            tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
        tasks.append(asyncio.create_task(purge_idempotency_keys(rt), name="idempotency-purge"))
        for job in spec.background:
            tasks.append(asyncio.create_task(job(rt), name=getattr(job, "__name__", "job")))
        await broker.start()
        state["rt"] = rt
        log.info("%s started on %s:%s", spec.name, s.host, s.port)
        try:
            yield
        finally:
            state.pop("rt", None)
            state.pop("relay", None)
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if relay:
                await relay.stop_producer()
            await broker.stop()
            await producer.stop()
            await rt.http.aclose()
            await pool.close()

    app = create_app(spec.name, lifespan=lifespan, cors_origins=s.cors_origins, readiness=readiness)
    app.state.verifier = TokenVerifier.from_file(s.jwt_public_key_file, s.jwt_issuer, s.jwt_audience)

    @app.get("/asyncapi", include_in_schema=False)
    async def asyncapi() -> Any:
        return app.state.asyncapi.schema.to_specification().to_jsonable()

    for r in spec.routers:
        app.include_router(r)
    return app


def run(spec: ServiceSpec) -> None:
    """`python -m services.<name>`: serve until SIGTERM/SIGINT."""
    setup_logging(spec.name, spec.settings.log_level)
    app = build_app(spec)
    config = uvicorn.Config(app, host=spec.settings.host, port=spec.settings.port, log_config=None,
                            access_log=False, lifespan="on")
    uvicorn.Server(config).run()
