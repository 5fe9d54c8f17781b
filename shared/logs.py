"""Structured JSON logs carrying the correlation id of the request or message being handled."""
from __future__ import annotations

import contextvars
import json
import logging
import sys
import time

correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("correlation_id", default=None)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        cid = correlation_id.get()
        if cid:
            entry["correlation_id"] = cid
        for key, value in getattr(record, "extra_fields", {}).items():
            entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RepeatLimit(logging.Filter):
    """Lets at most `burst` records of one kind (logger, level, message template) through per `window`
    seconds; the next one let through carries how many were dropped. A broker outage otherwise makes
    every relay, consumer and client log the same failure many times a second (hundreds of MB a minute).
    """

    def __init__(self, burst: int = 5, window: float = 10.0, min_level: int = logging.WARNING) -> None:
        super().__init__()
        self.burst, self.window, self.min_level = burst, window, min_level
        self._seen: dict[tuple[str, int, str], list[float]] = {}  # kind -> [window start, passed, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < self.min_level:
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = time.monotonic()
        state = self._seen.get(kind)
        if state is None or now - state[0] >= self.window:
            dropped = int(state[2]) if state else 0
            self._seen[kind] = [now, 1, 0]
            if len(self._seen) > 10_000:  # many kinds (message text built by hand): forget the oldest
                self._seen.pop(next(iter(self._seen)))
            if dropped:
                record.extra_fields = {**getattr(record, "extra_fields", {}), "similar_dropped": dropped}
            return True
        if state[1] < self.burst:
            state[1] += 1
            return True
        state[2] += 1
        return False


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(RepeatLimit())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "uvicorn.access", "faststream.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
