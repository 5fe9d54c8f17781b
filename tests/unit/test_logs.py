"""Repeated log records are limited per kind, and the next one let through says how many were dropped."""
import logging

from shared.logs import RepeatLimit


def record(msg: str, level: int = logging.WARNING, name: str = "tessera.outbox", arg: object = 1) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, (arg,), None)


def test_a_burst_passes_then_repeats_are_dropped_until_the_window_ends(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("shared.logs.time.monotonic", lambda: clock[0])
    f = RepeatLimit(burst=3, window=10.0)
    passed = [f.filter(record("row %s failed", arg=i)) for i in range(10)]
    assert passed == [True] * 3 + [False] * 7
    clock[0] += 10.0
    nxt = record("row %s failed", arg=11)
    assert f.filter(nxt)
    assert nxt.extra_fields == {"similar_dropped": 7}


def test_kinds_are_counted_apart_and_info_is_never_dropped():
    f = RepeatLimit(burst=1, window=60.0)
    assert f.filter(record("row %s failed"))
    assert not f.filter(record("row %s failed"))
    assert f.filter(record("broker %s unreachable"))  # another template
    assert f.filter(record("row %s failed", name="tessera.inbox"))  # another logger
    assert all(f.filter(record("checkout %s placed", level=logging.INFO)) for _ in range(50))
