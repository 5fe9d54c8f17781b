"""Event and command contracts: versioned pydantic models, one registry, JSON Schema export.

Every message type has a CloudEvents `type` ending in its version (`order.placed.v1`), the topic
it travels on and the aggregate id that is its Kafka key. An incompatible change gets a new
version (a new class), never an edit of a published one; the contract test guards that.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """Base of every Kafka payload. Unknown fields are ignored so that producers can add fields."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]

    @property
    def aggregate_id(self) -> str:
        """The aggregate id: the Kafka key, so all messages of one aggregate stay in order."""
        return str(getattr(self, self.KEY_FIELD))


REGISTRY: dict[str, type[Message]] = {}
M = TypeVar("M", bound=Message)


def contract(type_: str, topic: str, key: str) -> Callable[[type[M]], type[M]]:
    """Class decorator registering a message type under its CloudEvents type."""

    def wrap(cls: type[M]) -> type[M]:
        if type_ in REGISTRY and REGISTRY[type_] is not cls:
            raise ValueError(f"message type {type_} registered twice")
        cls.TYPE, cls.TOPIC, cls.KEY_FIELD = type_, topic, key
        REGISTRY[type_] = cls
        return cls

    return wrap


def json_schemas() -> dict[str, dict[str, Any]]:
    """The JSON Schema of every registered message, by type (exported to shared/contracts/schemas)."""
    return {t: REGISTRY[t].model_json_schema() for t in sorted(REGISTRY)}
