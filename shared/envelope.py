"""CloudEvents 1.0 in Kafka binary mode: metadata in `ce_*` headers, the payload JSON as the body."""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"


class EnvelopeError(ValueError):
    """A message whose headers do not form a valid CloudEvent (names the header at fault)."""


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    subject: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    traceparent: str | None = None

    def headers(self) -> dict[str, str]:
        h = {
            "ce_specversion": SPECVERSION,
            "ce_id": str(self.id),
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_time": self.time.isoformat().replace("+00:00", "Z"),
            "ce_subject": self.subject,
            "content-type": CONTENT_TYPE,
            "traceparent": self.traceparent or new_traceparent(),
        }
        h["ce_correlationid"] = self.correlation_id or str(self.id)
        return h

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> Envelope:
        def need(name: str) -> str:
            value = headers.get(name)
            if not value:
                raise EnvelopeError(f"header {name} is missing")
            return value

        if need("ce_specversion") != SPECVERSION:
            raise EnvelopeError(f"header ce_specversion is {headers['ce_specversion']!r}, expected {SPECVERSION}")
        try:
            event_id = uuid.UUID(need("ce_id"))
        except ValueError:
            raise EnvelopeError(f"header ce_id {headers['ce_id']!r} is not a UUID") from None
        raw_time = headers.get("ce_time")
        try:
            when = datetime.fromisoformat(raw_time.replace("Z", "+00:00")) if raw_time else datetime.now(UTC)
        except ValueError:
            raise EnvelopeError(f"header ce_time {raw_time!r} is not an RFC 3339 time") from None
        return cls(
            type=need("ce_type"),
            source=need("ce_source"),
            subject=headers.get("ce_subject", ""),
            id=event_id,
            time=when,
            correlation_id=headers.get("ce_correlationid"),
            traceparent=headers.get("traceparent"),
        )


def kafka_headers(h: dict[str, str]) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in h.items()]


def decode_headers(raw: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in raw or ():
        try:
            out[k] = v.decode() if isinstance(v, (bytes, bytearray)) else str(v)
        except UnicodeDecodeError:
            out[k] = v.decode("latin-1")
    return out
