"""The transactional outbox and its relay against the real Postgres and Kafka."""
import asyncio
import random
from collections import defaultdict

import pytest

from shared.outbox import SHARDS, Outbox, OutboxRelay
from tests.support.contracts import ProbeEvent
from tests.support.kafka import headers, make_topic, read_topic

pytestmark = pytest.mark.integration


async def run_relays(n, database_url, schema, bootstrap, **kw):
    relays = [OutboxRelay(database_url, schema, bootstrap, service=schema, poll_seconds=0.2, **kw) for _ in range(n)]
    tasks = [asyncio.create_task(r.run()) for r in relays]
    return relays, tasks


async def stop(tasks, relays):
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for r in relays:
        await r.stop_producer()


async def wait_published(pool, total, timeout=60):
    for _ in range(int(timeout / 0.2)):
        if await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") >= total:
            return
        await asyncio.sleep(0.2)
    published = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NOT NULL")
    raise AssertionError(f"only {published} of {total} published")


async def test_committed_change_reaches_topic_with_cloudevents_headers_and_key(probe_schema, database_url,
                                                                               kafka_bootstrap, unique):
    schema, pool = probe_schema
    topic = await make_topic(kafka_bootstrap, f"test.{unique}.events")
    outbox = Outbox(schema)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("INSERT INTO things VALUES ('thing-1', 1)")
        event_id = await outbox.add(conn, ProbeEvent(key="thing-1", seq=1), topic=topic, correlation_id="corr-42")
    relays, tasks = await run_relays(1, database_url, schema, kafka_bootstrap)
    try:
        records = await read_topic(kafka_bootstrap, topic, until_count=1)
    finally:
        await stop(tasks, relays)
    assert len(records) == 1
    rec = records[0]
    h = headers(rec)
    assert rec.key == b"thing-1"
    assert h["ce_specversion"] == "1.0"
    assert h["ce_id"] == str(event_id)
    assert h["ce_source"] == f"/services/{schema}"
    assert h["ce_type"] == "test.probe.v1"
    assert h["ce_subject"] == "thing-1"
    assert h["content-type"] == "application/json"
    assert h["ce_correlationid"] == "corr-42"
    assert h["traceparent"].startswith("00-") and len(h["traceparent"]) == 55
    assert h["ce_time"].endswith("Z")
    assert rec.value == b'{"key":"thing-1","seq":1}'


async def test_rolled_back_transaction_publishes_nothing(probe_schema, database_url, kafka_bootstrap, unique):
    schema, pool = probe_schema
    topic = await make_topic(kafka_bootstrap, f"test.{unique}.events")
    outbox = Outbox(schema)
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("INSERT INTO things VALUES ('thing-2', 1)")
            await outbox.add(conn, ProbeEvent(key="thing-2", seq=1), topic=topic)
            raise RuntimeError("the state change fails after the outbox insert")
    # a committed marker after it, so "nothing arrived" is not just "not yet"
    async with pool.acquire() as conn, conn.transaction():
        await outbox.add(conn, ProbeEvent(key="marker", seq=1), topic=topic)
    relays, tasks = await run_relays(1, database_url, schema, kafka_bootstrap)
    try:
        records = await read_topic(kafka_bootstrap, topic, until_count=1, settle=2)
        await asyncio.sleep(1.0)
        records = await read_topic(kafka_bootstrap, topic, settle=1, timeout=5)
    finally:
        await stop(tasks, relays)
    assert [r.key for r in records] == [b"marker"]
    assert await pool.fetchval("SELECT count(*) FROM things") == 0


async def test_two_relays_keep_per_key_order_and_effects_happen_once(probe_schema, database_url, kafka_bootstrap,
                                                                     unique):
    """20 keys x 50 events, committed by concurrent writers in random interleaving, two relays."""
    schema, pool = probe_schema
    topic = await make_topic(kafka_bootstrap, f"test.{unique}.events", partitions=6)
    outbox = Outbox(schema)
    keys = [f"agg-{i}" for i in range(20)]
    plan = [(k, seq) for k in keys for seq in range(50)]
    random.Random(7).shuffle(plan)
    next_seq = defaultdict(int)
    lock = {k: asyncio.Lock() for k in keys}

    async def writer(items):
        for key, _ in items:
            async with lock[key]:  # the aggregate's own serialisation (a row lock in a real service)
                async with pool.acquire() as conn, conn.transaction():
                    seq = next_seq[key]
                    next_seq[key] += 1
                    await outbox.add(conn, ProbeEvent(key=key, seq=seq), topic=topic)

    relays, tasks = await run_relays(2, database_url, schema, kafka_bootstrap, batch_size=40)
    try:
        await asyncio.gather(*(writer(plan[i::8]) for i in range(8)))
        await wait_published(pool, 1000)
        owned = [r.owned for r in relays]
    finally:
        await stop(tasks, relays)
    # both relays worked, on disjoint shards
    assert all(owned) and not (owned[0] & owned[1]) and len(owned[0] | owned[1]) == SHARDS

    records = await read_topic(kafka_bootstrap, topic, until_count=1000)
    by_key = defaultdict(list)
    for r in records:
        by_key[r.key.decode()].append(ProbeEvent.model_validate_json(r.value).seq)
    assert set(by_key) == set(keys)
    for key, seqs in by_key.items():
        deduped = [s for i, s in enumerate(seqs) if s not in seqs[:i]]
        assert deduped == list(range(50)), f"{key} out of order: {seqs[:20]}..."

    # consumer effects exactly once, through the inbox, even if the wire carried duplicates
    from aiokafka import AIOKafkaProducer

    from shared.inbox import InboxConsumer, Record

    async def effect(conn, inc):
        await conn.execute("INSERT INTO effects (event_id, key, seq) VALUES ($1, $2, $3)",
                           inc.envelope.id, inc.message.key, inc.message.seq)

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        consumer = InboxConsumer("order-test", pool, producer, accepts={"test.probe.v1": effect})
        for r in records + records[:100]:  # deliver the first 100 twice
            await consumer.handle(Record(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers)))
    finally:
        await producer.stop()
    assert await pool.fetchval("SELECT count(*) FROM effects") == 1000
    assert await pool.fetchval("SELECT count(DISTINCT (key, seq)) FROM effects") == 1000


async def test_failing_row_is_retried_with_backoff_without_blocking_other_keys(probe_schema, database_url,
                                                                               kafka_bootstrap, unique):
    schema, pool = probe_schema
    good = await make_topic(kafka_bootstrap, f"test.{unique}.events")
    outbox = Outbox(schema)
    async with pool.acquire() as conn, conn.transaction():
        # a topic that does not exist (auto-creation is off): this key's head row keeps failing
        await outbox.add(conn, ProbeEvent(key="stuck", seq=0), topic=f"test.{unique}.missing")
        await outbox.add(conn, ProbeEvent(key="stuck", seq=1), topic=f"test.{unique}.missing")
        for i in range(5):
            await outbox.add(conn, ProbeEvent(key=f"free-{i}", seq=0), topic=good)
    relays, tasks = await run_relays(1, database_url, schema, kafka_bootstrap)
    try:
        records = await read_topic(kafka_bootstrap, good, until_count=5, timeout=60)
        row = None
        for _ in range(100):
            row = await pool.fetchrow("SELECT attempts, last_error, published_at FROM outbox"
                                      " WHERE partition_key = 'stuck' ORDER BY id LIMIT 1")
            if row["attempts"] >= 1:
                break
            await asyncio.sleep(0.3)
        second = await pool.fetchrow(
            "SELECT attempts, published_at FROM outbox WHERE partition_key = 'stuck' ORDER BY id OFFSET 1")
    finally:
        await stop(tasks, relays)
    assert sorted(r.key for r in records) == [f"free-{i}".encode() for i in range(5)]
    assert row["attempts"] >= 1 and row["published_at"] is None and row["last_error"]
    assert second["published_at"] is None  # never overtakes its failed predecessor


async def test_a_relay_of_the_same_schema_in_another_database_does_not_take_a_share(probe_schema, database_url,
                                                                                    kafka_bootstrap, unique):
    """Advisory locks are cluster-wide in pg_locks: only relays of this database count as peers."""
    import asyncpg

    from shared.outbox import MEMBER_SLOT

    schema, pool = probe_schema
    relays, tasks = await run_relays(1, database_url, schema, kafka_bootstrap)
    other = await asyncpg.connect(database_url.rpartition("/")[0] + "/postgres")  # another database, same cluster
    try:
        await other.execute("SELECT pg_advisory_lock_shared($1, $2)", relays[0].lock_ns, MEMBER_SLOT)
        await asyncio.sleep(2.5)  # a balancing round
        assert len(relays[0].owned) == SHARDS
    finally:
        await other.close()
        await stop(tasks, relays)


async def test_a_commit_wakes_listening_relays_and_a_rollback_does_not(probe_schema, database_url):
    import asyncpg

    schema, pool = probe_schema
    outbox = Outbox(schema)
    listener = await asyncpg.connect(database_url)
    woken = asyncio.Event()
    await listener.add_listener(outbox.channel, lambda *_: woken.set())
    try:
        with pytest.raises(RuntimeError):
            async with pool.acquire() as conn, conn.transaction():
                await outbox.add(conn, ProbeEvent(key="n", seq=0))
                raise RuntimeError("rolled back")
        await asyncio.sleep(0.3)
        assert not woken.is_set()
        async with pool.acquire() as conn, conn.transaction():
            await outbox.add(conn, ProbeEvent(key="n", seq=1))
        await asyncio.wait_for(woken.wait(), 2)
    finally:
        await listener.close()


class FencedFirstProducer(OutboxRelay):
    """A relay whose first producer is fenced for good after its first few sends, as an idempotent
    producer is after `OutOfOrderSequenceNumber` (a broker restart under load): every later send fails."""

    def __init__(self, *a, fail_after: int, **kw):
        super().__init__(*a, **kw)
        self.started = 0
        self.fail_after = fail_after

    async def _ensure_producer(self) -> bool:
        fresh = self._producer is None or self._producer_broken
        ok = await super()._ensure_producer()
        if ok and fresh:
            self.started += 1
            if self.started == 1:
                real_send, sends = self._producer.send, 0

                async def send(*a, **kw):
                    nonlocal sends
                    sends += 1
                    if sends <= self.fail_after:
                        return await real_send(*a, **kw)
                    from aiokafka.errors import OutOfOrderSequenceNumber

                    fut = asyncio.get_running_loop().create_future()
                    fut.set_exception(OutOfOrderSequenceNumber())
                    return fut

                self._producer.send = send
        return ok


async def test_a_fenced_producer_is_replaced_and_every_key_keeps_its_order(probe_schema, database_url, kafka_bootstrap,
                                                                           unique):
    schema, pool = probe_schema
    topic = await make_topic(kafka_bootstrap, f"test.{unique}.events")
    outbox = Outbox(schema)
    for seq in range(40):  # 4 keys x 10 events, written in seq order
        async with pool.acquire() as conn, conn.transaction():
            await outbox.add(conn, ProbeEvent(key=f"k{seq % 4}", seq=seq), topic=topic)
    relay = FencedFirstProducer(database_url, schema, kafka_bootstrap, service=schema, poll_seconds=0.1, fail_after=6)
    task = asyncio.create_task(relay.run())
    try:
        records = await read_topic(kafka_bootstrap, topic, until_count=40, timeout=60)
        await wait_published(pool, 40)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.stop_producer()
    assert relay.started >= 2  # the fenced producer was retired, a new one finished the work
    by_key = defaultdict(list)
    for r in records:
        by_key[r.key.decode()].append(ProbeEvent.model_validate_json(r.value).seq)
    for k in range(4):
        seqs = by_key[f"k{k}"]
        # at least once: a re-send may repeat a row, but never out of order and never with a gap
        assert sorted(set(seqs)) == list(range(k, 40, 4))
        firsts = [s for i, s in enumerate(seqs) if s not in seqs[:i]]
        assert firsts == list(range(k, 40, 4))
    assert relay.stalled_for() == 0


async def test_a_relay_that_cannot_publish_reports_itself_stalled(probe_schema, database_url, unique):
    schema, pool = probe_schema
    async with pool.acquire() as conn, conn.transaction():
        await Outbox(schema).add(conn, ProbeEvent(key="k", seq=1), topic=f"test.{unique}.events")
    relay = OutboxRelay(database_url, schema, "127.0.0.1:1", service=schema, poll_seconds=0.1, stall_seconds=1.0)
    task = asyncio.create_task(relay.run())
    try:
        await asyncio.sleep(0.5)
        assert not relay.stalled  # failing, but not for long yet
        for _ in range(100):
            if relay.stalled:
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await relay.stop_producer()
    assert relay.stalled and relay.stalled_for() > 1.0
    assert "KafkaConnectionError" in (relay.last_error or "")
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 1
