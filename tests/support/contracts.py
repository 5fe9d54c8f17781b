"""A message type used only by the platform tests."""
from shared.contracts.base import Message, contract


@contract("test.probe.v1", topic="test.probe", key="key")
class ProbeEvent(Message):
    key: str
    seq: int
