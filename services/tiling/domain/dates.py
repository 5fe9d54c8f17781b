"""A compact set of image dates: a bitmap over days, stored as (first day, Python int).

A year of daily dates is 365 bits (46 bytes) whatever the number of cells it applies to; set
operations are single big-int operations.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

EPOCH = date(1970, 1, 1)


def day_number(d: date) -> int:
    """Days since 1970-01-01."""
    return (d - EPOCH).days


@dataclass(frozen=True, slots=True)
class DateSet:
    """Set of dates; bit ``i`` of ``bits`` is day ``start + i`` (days since 1970-01-01).

    Normalised: bit 0 is set, or the set is empty with ``start == 0``; equal sets compare equal.
    """

    start: int = 0
    bits: int = 0

    def __post_init__(self) -> None:
        if self.bits < 0:
            raise ValueError("DateSet bits must be non-negative")
        if self.bits and not self.bits & 1:
            shift = (self.bits & -self.bits).bit_length() - 1
            object.__setattr__(self, "bits", self.bits >> shift)
            object.__setattr__(self, "start", self.start + shift)
        elif not self.bits:
            object.__setattr__(self, "start", 0)

    @classmethod
    def of(cls, dates: Iterable[date]) -> DateSet:
        days = [day_number(d) for d in dates]
        if not days:
            return cls()
        first = min(days)
        bits = 0
        for n in days:
            bits |= 1 << (n - first)
        return cls(first, bits)

    @classmethod
    def every(cls, first: date, last: date, step_days: int = 1) -> DateSet:
        """``first, first + step, …`` up to ``last`` inclusive."""
        if last < first:
            return cls()
        count = (last - first).days // step_days + 1
        # repeating pattern 1 followed by step-1 zeros, built by doubling
        bits = sum(1 << (i * step_days) for i in range(count)) if step_days > 1 else (1 << count) - 1
        return cls(day_number(first), bits)

    # -- set algebra on aligned bitmaps ---------------------------------------------------------
    def _align(self, other: DateSet) -> tuple[int, int, int]:
        base = min(self.start, other.start) if self.bits and other.bits else (self.start if self.bits else other.start)
        return base, self.bits << (self.start - base), other.bits << (other.start - base)

    def __or__(self, other: DateSet) -> DateSet:
        if not other.bits:
            return self
        if not self.bits:
            return other
        base, a, b = self._align(other)
        return DateSet(base, a | b)

    def __and__(self, other: DateSet) -> DateSet:
        if not self.bits or not other.bits:
            return DateSet()
        base, a, b = self._align(other)
        return DateSet(base, a & b)

    def __sub__(self, other: DateSet) -> DateSet:
        if not self.bits or not other.bits:
            return self
        base, a, b = self._align(other)
        return DateSet(base, a & ~b)

    def __bool__(self) -> bool:
        return self.bits != 0

    def __len__(self) -> int:
        return self.bits.bit_count()

    def __contains__(self, d: date) -> bool:
        i = day_number(d) - self.start
        return i >= 0 and bool(self.bits >> i & 1)

    def __iter__(self) -> Iterator[date]:
        bits, i = self.bits, 0
        while bits:
            low = bits & -bits
            i = low.bit_length() - 1
            yield EPOCH + timedelta(days=self.start + i)
            bits ^= low

    def dates(self) -> list[date]:
        return list(self)

    # -- storage ---------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """Little-endian bitmap (store next to ``start``)."""
        return self.bits.to_bytes((self.bits.bit_length() + 7) // 8, "little")

    @classmethod
    def from_bytes(cls, start: int, data: bytes) -> DateSet:
        return cls(start, int.from_bytes(data, "little"))

    def __repr__(self) -> str:
        if not self.bits:
            return "DateSet()"
        first = EPOCH + timedelta(days=self.start)
        last = first + timedelta(days=self.bits.bit_length() - 1)
        return f"DateSet({len(self)} dates {first}..{last})"
