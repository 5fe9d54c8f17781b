"""Test helpers for reading what really reached the broker."""
from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.envelope import decode_headers
from shared.topics import ensure_topics


async def make_topic(bootstrap: str, name: str, partitions: int = 3) -> str:
    await ensure_topics(bootstrap, [name], partitions=partitions)
    return name


async def read_topic(bootstrap: str, topic: str, *, until_count: int | None = None, timeout: float = 30.0,
                     settle: float = 1.0) -> list:
    """All records of `topic` from the beginning: stops at `until_count` records or after `settle`
    quiet seconds (once something arrived), or at `timeout`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    parts: set[int] = set()
    for _ in range(100):  # a just-created topic takes a moment to appear in metadata
        meta = await consumer._client.fetch_all_metadata()
        parts = meta.partitions_for_topic(topic) or set()
        if parts:
            break
        await asyncio.sleep(0.1)
    consumer.assign([TopicPartition(topic, p) for p in sorted(parts)])
    await consumer.seek_to_beginning()
    records = []
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            got = [r for rs in batch.values() for r in rs]
            if got:
                records.extend(got)
                last = time.monotonic()
            if until_count is not None and len(records) >= until_count:
                break
            if until_count is None and records and time.monotonic() - last > settle:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return records


def headers(record) -> dict[str, str]:
    return decode_headers(record.headers)


async def send_messages(bootstrap: str, messages, *, source: str = "/services/checkout",
                        ids: list | None = None, concurrently: bool = False) -> list:
    """Publish contract messages as a service would (CloudEvents headers, key = aggregate id).
    `ids` reuses event ids (a redelivery); `concurrently` sends them all at once. Returns the event ids."""
    from aiokafka import AIOKafkaProducer

    from shared.envelope import Envelope, kafka_headers

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        envs = [Envelope(type=m.TYPE, source=source, subject=m.aggregate_id, **({"id": ids[i]} if ids else {}))
                for i, m in enumerate(messages)]
        sends = [producer.send_and_wait(m.TOPIC, m.model_dump_json().encode(), key=m.aggregate_id.encode(),
                                        headers=kafka_headers(e.headers())) for m,
                                        e in zip(messages, envs, strict=True)]
        if concurrently:
            await asyncio.gather(*sends)
        else:
            for s in sends:
                await s
        return [e.id for e in envs]
    finally:
        await producer.stop()


async def replies_on(bootstrap: str, topic: str, checkout_id: str, count: int = 1,
                     timeout: float = 40.0) -> list[tuple[str, dict]]:
    """The messages on `topic` about one checkout, in order, as (ce_type, body); waits for `count`."""
    import json

    deadline = time.monotonic() + timeout
    found: list = []
    while time.monotonic() < deadline:
        records = await read_topic(bootstrap, topic, timeout=3.0, settle=0.3)
        found = [(headers(r)["ce_type"], json.loads(r.value)) for r in records
                 if json.loads(r.value).get("checkout_id") == checkout_id]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.3)
    raise TimeoutError(f"{len(found)} of {count} messages on {topic} for {checkout_id}")
