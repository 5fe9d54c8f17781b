"""Crash safety of the relay and the inbox consumer, dead-lettering, and a broker restart."""
import asyncio
import json
import os
import signal
import subprocess
import sys

import pytest
from aiokafka import AIOKafkaProducer

from shared.envelope import Envelope, kafka_headers
from shared.outbox import Outbox, OutboxRelay
from tests.support import infra
from tests.support.contracts import ProbeEvent
from tests.support.kafka import headers, make_topic, read_topic

pytestmark = pytest.mark.integration


def spawn(*args):
    env = dict(os.environ, PYTHONPATH=str(infra.ROOT))
    return subprocess.Popen([sys.executable, "-m", "tests.support.probe", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=infra.ROOT)


async def write_events(pool, schema, topic, keys, per_key):
    outbox = Outbox(schema)
    for seq in range(per_key):
        async with pool.acquire() as conn, conn.transaction():
            for k in keys:
                await outbox.add(conn, ProbeEvent(key=k, seq=seq), topic=topic)


async def published(pool):
    return await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")


async def wait_for(predicate, timeout=60, step=0.1):
    for _ in range(int(timeout / step)):
        if await predicate():
            return True
        await asyncio.sleep(step)
    return False


async def test_relay_killed_mid_batch_loses_nothing_and_inbox_absorbs_duplicates(probe_schema, database_url,
                                                                                 kafka_bootstrap, unique):
    schema, pool = probe_schema
    topic = await make_topic(kafka_bootstrap, f"test.{unique}.events")
    keys = [f"k{i}" for i in range(10)]
    await write_events(pool, schema, topic, keys, 100)  # 1,000 events
    relay = spawn("relay", database_url, schema, kafka_bootstrap)
    try:
        async def some_published():
            return await published(pool) >= 150
        assert await wait_for(some_published), "relay published nothing"
        relay.send_signal(signal.SIGKILL)
        relay.wait(10)
    finally:
        if relay.poll() is None:
            relay.kill()
    at_kill = await published(pool)
    assert 0 < at_kill < 1000, f"the kill must land mid-stream (published {at_kill})"
    relay = spawn("relay", database_url, schema, kafka_bootstrap)
    try:
        async def all_published():
            return await published(pool) == 1000
        assert await wait_for(all_published), f"only {await published(pool)} of 1000 published after restart"
    finally:
        relay.kill()
        relay.wait(10)
    consumer = spawn("consumer", database_url, schema, kafka_bootstrap, topic, f"g-{unique}")
    try:
        async def all_applied():
            return await pool.fetchval("SELECT count(*) FROM effects") >= 1000
        assert await wait_for(all_applied), "consumer did not apply every event"
        await asyncio.sleep(1.0)  # duplicates on the wire, if any, arrive and are skipped
    finally:
        consumer.kill()
        consumer.wait(10)
    records = await read_topic(kafka_bootstrap, topic, until_count=1000)
    assert len({headers(r)["ce_id"] for r in records}) == 1000  # every event on the wire
    assert await pool.fetchval("SELECT count(*) FROM effects") == 1000  # each applied once
    assert await pool.fetchval("SELECT count(DISTINCT (key, seq)) FROM effects") == 1000


async def test_consumer_killed_after_effect_before_offset_commit_skips_redelivery(probe_schema, database_url,
                                                                                  kafka_bootstrap, unique):
    schema, pool = probe_schema
    topic = await make_topic(kafka_bootstrap, f"test.{unique}.events", partitions=1)
    await write_events(pool, schema, topic, ["only"], 20)
    relay = OutboxRelay(database_url, schema, kafka_bootstrap, service=schema, poll_seconds=0.2)
    task = asyncio.create_task(relay.run())
    try:
        async def all_published():
            return await published(pool) == 20
        assert await wait_for(all_published)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.stop_producer()
    group = f"g-{unique}"
    crashing = spawn("consumer", database_url, schema, kafka_bootstrap, topic, group, "--crash-after", "5")
    rc = await asyncio.to_thread(crashing.wait, 60)
    assert rc == -signal.SIGKILL
    assert await pool.fetchval("SELECT count(*) FROM effects") == 5  # 5th committed, its offset not
    consumer = spawn("consumer", database_url, schema, kafka_bootstrap, topic, group)
    try:
        async def all_applied():
            return await pool.fetchval("SELECT count(*) FROM effects") >= 20
        assert await wait_for(all_applied)
        await asyncio.sleep(1.0)
    finally:
        consumer.kill()
        consumer.wait(10)
    rows = await pool.fetch("SELECT seq FROM effects ORDER BY applied_at")
    assert [r["seq"] for r in rows] == list(range(20))  # the redelivered 5th was skipped, not applied twice
    assert await pool.fetchval(f"SELECT count(*) FROM inbox WHERE consumer = 'probe-{group}'") == 20


async def test_malformed_message_goes_to_dlq_with_reason_and_consumer_goes_on(probe_schema, database_url,
                                                                              kafka_bootstrap, unique):
    schema, pool = probe_schema
    topic = await make_topic(kafka_bootstrap, f"test.{unique}.events", partitions=1)
    good = Envelope(type="test.probe.v1", source="/tests", subject="a")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{not json", key=b"a", headers=kafka_headers(
            Envelope(type="test.probe.v1", source="/tests", subject="a").headers()))
        await producer.send_and_wait(topic, json.dumps({"key": "a", "seq": "seven"}).encode(), key=b"a",
                                     headers=kafka_headers(Envelope(type="test.probe.v1", source="/tests",
                                                                    subject="a").headers()))
        await producer.send_and_wait(topic, json.dumps({"key": "a", "seq": 1}).encode(), key=b"a",
                                     headers=[("content-type", b"application/json")])  # no CloudEvents headers
        await producer.send_and_wait(topic, json.dumps({"key": "a", "seq": 2}).encode(), key=b"a",
                                     headers=kafka_headers(good.headers()))
    finally:
        await producer.stop()
    consumer = spawn("consumer", database_url, schema, kafka_bootstrap, topic, f"g-{unique}")
    try:
        async def applied():
            return await pool.fetchval("SELECT count(*) FROM effects") >= 1
        assert await wait_for(applied, timeout=30), "the valid message after the bad ones was not applied"
    finally:
        consumer.kill()
        consumer.wait(10)
    assert [r["seq"] for r in await pool.fetch("SELECT seq FROM effects")] == [2]
    dlq = await read_topic(kafka_bootstrap, f"{topic}.dlq", until_count=3)
    reasons = [headers(r)["dlq_reason"] for r in dlq]
    assert len(dlq) == 3
    assert "body is not JSON" in reasons[0]
    assert reasons[1].startswith("schema: seq:")
    assert reasons[2] == "header ce_specversion is missing"
    assert [headers(r)["dlq_original_topic"] for r in dlq] == [topic] * 3
    assert [int(headers(r)["dlq_original_offset"]) for r in dlq] == [0, 1, 2]
    assert dlq[0].value == b"{not json"  # original body kept
    assert headers(dlq[0])["ce_type"] == "test.probe.v1"  # original headers kept


async def test_broker_restart_while_writing_loses_nothing(probe_schema, database_url, kafka_bootstrap, unique):
    if not infra.broker_is_ours():
        pytest.skip("the broker is not managed by deploy/local; cannot stop and restart it")
    schema, pool = probe_schema
    topic = await make_topic(kafka_bootstrap, f"test.{unique}.events")
    relay = OutboxRelay(database_url, schema, kafka_bootstrap, service=schema, poll_seconds=0.2)
    task = asyncio.create_task(relay.run())
    outbox = Outbox(schema)
    written = 0

    async def writer(n):
        nonlocal written
        for i in range(n):
            async with pool.acquire() as conn, conn.transaction():
                await outbox.add(conn, ProbeEvent(key=f"k{i % 7}", seq=i), topic=topic)
            written += 1
            await asyncio.sleep(0.01)

    try:
        w = asyncio.create_task(writer(600))
        await asyncio.sleep(1.0)
        await asyncio.to_thread(subprocess.run, [str(infra.LOCAL / "kafka.sh"), "stop"], check=True)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(subprocess.run, [str(infra.LOCAL / "kafka.sh"), "start"], check=True)
        await w
        async def all_published():
            return await published(pool) == 600
        assert await wait_for(all_published, timeout=120), f"only {await published(pool)} of 600 published"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.stop_producer()
    records = await read_topic(kafka_bootstrap, topic, until_count=600, timeout=60)
    assert written == 600
    assert {ProbeEvent.model_validate_json(r.value).seq for r in records} == set(range(600))


async def test_unknown_message_type_goes_to_dlq_but_a_known_type_for_others_is_skipped(probe_schema, database_url,
                                                                                       kafka_bootstrap, unique):
    import shared.contracts  # noqa: F401  (registers cart.item_removed.v1)
    from shared.inbox import InboxConsumer, Record

    schema, pool = probe_schema
    topic = await make_topic(kafka_bootstrap, f"test.{unique}.events", partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        consumer = InboxConsumer("mixed", pool, producer, accepts={})
        other = Envelope(type="cart.item_removed.v1", source="/services/cart", subject="c1")
        unknown = Envelope(type="cart.exploded.v9", source="/services/cart", subject="c1")
        body = json.dumps({"cart_id": "c1", "account_id": "a", "item_id": "i"}).encode()
        r1 = await consumer.handle(Record(topic, 0, 0, b"c1", body, kafka_headers(other.headers())))
        r2 = await consumer.handle(Record(topic, 0, 1, b"c1", body, kafka_headers(unknown.headers())))
    finally:
        await producer.stop()
    assert (r1, r2) == ("ignored", "dead_lettered")
    dlq = await read_topic(kafka_bootstrap, f"{topic}.dlq", until_count=1)
    assert headers(dlq[0])["dlq_reason"] == "ce_type 'cart.exploded.v9' is not a known message type"
