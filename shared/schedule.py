"""Image schedules (shared by pricing, tiling and checkout): which dates an item's imagery is
produced for, and which month pays for them.

A day ``d`` is scheduled when ``(d − reference) mod frequency == 0`` and ``d`` lies in the
window ``from … to`` (inclusive; ``to`` null = recurring, no end). The reference date defaults
to ``from`` and may lie before, inside or after the window. Months are UTC calendar months
(dates here are already UTC calendar dates).

Charging (docs/domain.md, Pricing, our decisions):

- a fixed window (``to`` given) is charged entirely at checkout, in the checkout month;
- a recurring item is charged at checkout for the checkout month and for each later month at
  that month's renewal. **Decision**: when a recurring item's ``from`` lies in an earlier month
  than the checkout, those earlier dates are ordered too and are charged at checkout along with
  the checkout month (like a fixed window); when ``from`` lies in a later month, the checkout
  month has no dates and is charged €0.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import total_ordering

__all__ = ["ChargePeriod", "Month", "Schedule", "charge_periods"]


def utc_today() -> date:
    """Today's date in UTC: every month boundary of the domain is a UTC one (docs/domain.md, Configuration)."""
    return datetime.now(UTC).date()


@total_ordering
@dataclass(frozen=True, slots=True)
class Month:
    """A UTC calendar month."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month must be 1..12, got {self.month}")

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @classmethod
    def parse(cls, text: str) -> Month:
        """``"2025-04"`` -> ``Month(2025, 4)``."""
        year, month = text.split("-")
        return cls(int(year), int(month))

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def __lt__(self, other: Month) -> bool:
        return (self.year, self.month) < (other.year, other.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Schedule:
    """``from``/``to`` window (``to`` None = recurring), frequency in days and reference date."""

    from_: date
    to: date | None
    frequency: int
    reference: date | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.frequency <= 7:
            raise ValueError(f"image frequency must be 1..7 days, got {self.frequency}")
        if self.to is not None and self.to < self.from_:
            raise ValueError(f"'to' {self.to} lies before 'from' {self.from_}")
        if self.reference is None:
            object.__setattr__(self, "reference", self.from_)

    @property
    def is_recurring(self) -> bool:
        return self.to is None

    def is_scheduled(self, day: date) -> bool:
        """Whether ``day`` is an image date of this schedule."""
        in_window = self.from_ <= day and (self.to is None or day <= self.to)
        return in_window and (day - self.reference).days % self.frequency == 0  # type: ignore[operator]

    def dates_between(self, start: date, end: date) -> tuple[date, ...]:
        """Image dates in ``start … end`` (inclusive), clipped to the window."""
        first = max(start, self.from_)
        last = end if self.to is None else min(end, self.to)
        if last < first:
            return ()
        # Python's % is non-negative for a positive divisor, so a reference after the
        # window works too.
        offset = (self.reference - first).days % self.frequency  # type: ignore[operator]
        day = first + timedelta(days=offset)
        step = timedelta(days=self.frequency)
        dates = []
        while day <= last:
            dates.append(day)
            day += step
        return tuple(dates)

    def dates_in_month(self, month: Month) -> tuple[date, ...]:
        """The image dates falling in one calendar month."""
        return self.dates_between(month.first_day, month.last_day)

    def all_dates(self) -> tuple[date, ...]:
        """Every image date of a fixed window; refused for a recurring schedule (it has no end)."""
        if self.to is None:
            raise ValueError("a recurring schedule has no end; ask for the dates of a month")
        return self.dates_between(self.from_, self.to)

    def recurring_dates(self, today: date) -> tuple[tuple[date, ...], tuple[date, ...]]:
        """For a recurring item: this month's image dates and next month's."""
        this_month = Month.of(today)
        return self.dates_in_month(this_month), self.dates_in_month(this_month.next())


@dataclass(frozen=True, slots=True)
class ChargePeriod:
    """The image dates charged in one month: at checkout, or at that month's renewal."""

    month: Month
    dates: tuple[date, ...]
    at_checkout: bool


def charge_periods(
    schedule: Schedule, checkout_day: date, *, include_next_month: bool = True
) -> tuple[ChargePeriod, ...]:
    """Which dates are charged in which month for an item checked out on ``checkout_day``.

    A fixed window: one period, the checkout month, holding every date. A recurring item: the
    checkout month (holding every date from ``from`` to the end of the checkout month) and,
    when ``include_next_month``, next month's dates as the preview of its first renewal.
    """
    month = Month.of(checkout_day)
    if schedule.to is not None:
        return (ChargePeriod(month, schedule.all_dates(), at_checkout=True),)
    now = ChargePeriod(month, schedule.dates_between(schedule.from_, month.last_day), at_checkout=True)
    if not include_next_month:
        return (now,)
    upcoming = month.next()
    return now, ChargePeriod(upcoming, schedule.dates_in_month(upcoming), at_checkout=False)
