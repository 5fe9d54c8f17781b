"""All Kafka message contracts. Importing this package registers every type (see base.REGISTRY)."""
from shared.contracts import aoi, cart, checkout, coverage, partner, pricing  # noqa: F401
from shared.contracts.base import REGISTRY, Message, contract, json_schemas  # noqa: F401
