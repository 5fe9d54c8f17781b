"""A probe for platform tests, run as its own process so a test can SIGKILL it.

    python -m tests.support.probe relay <dsn> <schema> <bootstrap>
    python -m tests.support.probe consumer <dsn> <schema> <bootstrap> <topic> <group> [--crash-after N]

The consumer applies `test.probe.v1` events by inserting (event_id, key, seq) into `effects`;
with --crash-after N it kills itself with SIGKILL right after its N-th effect has committed and
before the offset is committed (the window the inbox must cover).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal

from aiokafka import AIOKafkaProducer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.db import create_pool
from shared.inbox import InboxConsumer, Incoming, Record
from shared.outbox import OutboxRelay
from tests.support.contracts import ProbeEvent  # noqa: F401  (registers the type)


async def effect(conn, inc: Incoming) -> None:
    await conn.execute("INSERT INTO effects (event_id, key, seq) VALUES ($1, $2, $3)",
                       inc.envelope.id, inc.message.key, inc.message.seq)


async def run_relay(dsn: str, schema: str, bootstrap: str) -> None:
    relay = OutboxRelay(dsn, schema, bootstrap, service=schema, poll_seconds=0.2, batch_size=50)
    await relay.run()


async def run_consumer(dsn, schema, bootstrap, topic, group, crash_after) -> None:
    pool = await create_pool(dsn, schema)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    consumer = InboxConsumer(f"probe-{group}", pool, producer, accepts={"test.probe.v1": effect})
    broker = KafkaBroker(bootstrap, logger=None)
    applied = 0

    async def raw(msg):
        return msg.body

    @broker.subscriber(topic, group_id=group, ack_policy=AckPolicy.MANUAL, decoder=raw, auto_offset_reset="earliest")
    async def handle(msg: KafkaMessage) -> None:
        nonlocal applied
        r = msg.raw_message
        outcome = await consumer.handle(Record(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers or ())))
        if outcome == "applied":
            applied += 1
            if crash_after and applied >= crash_after:
                os.kill(os.getpid(), signal.SIGKILL)  # effect committed, offset not
        await msg.ack()

    await broker.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["relay", "consumer"])
    p.add_argument("dsn")
    p.add_argument("schema")
    p.add_argument("bootstrap")
    p.add_argument("topic", nargs="?")
    p.add_argument("group", nargs="?")
    p.add_argument("--crash-after", type=int, default=0)
    a = p.parse_args()
    if a.mode == "relay":
        asyncio.run(run_relay(a.dsn, a.schema, a.bootstrap))
    else:
        asyncio.run(run_consumer(a.dsn, a.schema, a.bootstrap, a.topic, a.group, a.crash_after))


if __name__ == "__main__":
    main()
