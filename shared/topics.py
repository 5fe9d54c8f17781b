"""Topic provisioning: idempotent creation of topics and their `.dlq` siblings."""
from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger("tessera.topics")

# Every topic of the architecture (docs/architecture.md, Topics); each also gets a `.dlq` sibling.
TOPICS = (
    "aoi.aoi.events",
    "cart.cart.events",
    "cart.cart.commands",
    "tiling.coverage.commands",
    "tiling.coverage.events",
    "pricing.quote.commands",
    "pricing.quote.events",
    "checkout.checkout.events",
    "checkout.order.events",
    "partner.order.events",
)


async def ensure_topics(
    bootstrap: str,
    topics: list[str] | tuple[str, ...] = TOPICS,
    *,
    partitions: int = 6,
    dlq_partitions: int = 1,
    configs: dict[str, str] | None = None,
) -> list[str]:
    """Create what is missing (each topic and its `.dlq`); returns the names created by this call."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted: list[NewTopic] = []
        for t in topics:
            if t not in existing:
                wanted.append(NewTopic(t, num_partitions=partitions, replication_factor=1, topic_configs=configs or {}))
            if f"{t}.dlq" not in existing:
                wanted.append(NewTopic(f"{t}.dlq", num_partitions=dlq_partitions, replication_factor=1))
        created: list[str] = []
        for nt in wanted:  # one by one: a concurrent creator's TopicAlreadyExists must not hide the rest
            try:
                resp = await admin.create_topics([nt])
                errors = [e for e in getattr(resp, "topic_errors", []) if e[1] not in (0, 36)]
                if errors:
                    raise RuntimeError(f"creating topic {nt.name}: {errors}")
                created.append(nt.name)
            except TopicAlreadyExistsError:
                pass
        if created:
            log.info("created topics %s", created)
        return created
    finally:
        await admin.close()
