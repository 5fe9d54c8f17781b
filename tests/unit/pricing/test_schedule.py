"""Image schedules, docs/domain.md, Configuration: (d − reference) mod frequency = 0, UTC months."""

from __future__ import annotations

from datetime import date

import pytest

from services.pricing.domain import Month, Schedule, charge_periods

APRIL_2025 = (date(2025, 4, 1), date(2025, 4, 30))


def days(dates):
    return [d.day for d in dates]


def test_reference_defaults_to_from():
    # Every 5th day from Apr 1: 1, 6, 11, 16, 21, 26.
    assert days(Schedule(*APRIL_2025, 5).all_dates()) == [1, 6, 11, 16, 21, 26]


def test_reference_before_the_window():
    # Reference Mar 30: Mar 30 + 5 = Apr 4, then 9, 14, 19, 24, 29.
    assert days(Schedule(*APRIL_2025, 5, date(2025, 3, 30)).all_dates()) == [4, 9, 14, 19, 24, 29]


def test_reference_inside_the_window_also_schedules_days_before_it():
    # Reference Apr 13: 13 − 5 = 8, 8 − 5 = 3; so 3, 8, 13, 18, 23, 28.
    assert days(Schedule(*APRIL_2025, 5, date(2025, 4, 13)).all_dates()) == [3, 8, 13, 18, 23, 28]


def test_reference_after_the_window():
    # Reference May 7 = "Apr 37"; 37 mod 5 = 2: Apr 2, 7, 12, 17, 22, 27.
    assert days(Schedule(*APRIL_2025, 5, date(2025, 5, 7)).all_dates()) == [2, 7, 12, 17, 22, 27]


def test_window_end_is_inclusive():
    # Apr 1 … Apr 29 weekly: 1, 8, 15, 22, 29 (the 29th is the last day and is included).
    assert days(Schedule(date(2025, 4, 1), date(2025, 4, 29), 7).all_dates()) == [1, 8, 15, 22, 29]


def test_daily_february_in_a_leap_year_has_29_dates():
    schedule = Schedule(date(2028, 2, 1), None, 1)
    assert len(schedule.dates_in_month(Month(2028, 2))) == 29
    assert len(Schedule(date(2027, 2, 1), None, 1).dates_in_month(Month(2027, 2))) == 28


def test_weekly_recurring_crosses_from_february_into_march_2027():
    # 2027 is not a leap year: Feb 1, 8, 15, 22, then Feb 22 + 7 = Mar 1, 8, 15, 22, 29.
    this_month, next_month = Schedule(date(2027, 2, 1), None, 7).recurring_dates(date(2027, 2, 20))
    assert days(this_month) == [1, 8, 15, 22]
    assert days(next_month) == [1, 8, 15, 22, 29]


def test_month_dates_of_a_recurring_schedule_far_ahead():
    # Every 3rd day from 2025-01-01: Dec 2025 starts 334 days later; 334 mod 3 = 1, so the first
    # date is Dec 3 (336 days), then every 3rd day up to Dec 30: 3, 6, …, 30 = 10 dates.
    dates = Schedule(date(2025, 1, 1), None, 3).dates_in_month(Month(2025, 12))
    assert days(dates) == [3, 6, 9, 12, 15, 18, 21, 24, 27, 30]


def test_is_scheduled_agrees_with_the_rule():
    schedule = Schedule(*APRIL_2025, 3, date(2025, 1, 1))
    assert schedule.is_scheduled(date(2025, 4, 28))
    assert not schedule.is_scheduled(date(2025, 4, 29))
    assert not schedule.is_scheduled(date(2025, 5, 1))  # outside the window


def test_a_recurring_schedule_has_no_list_of_all_dates():
    with pytest.raises(ValueError, match="recurring"):
        Schedule(date(2025, 4, 1), None, 3).all_dates()


@pytest.mark.parametrize("frequency", [0, 8])
def test_frequency_outside_1_to_7_is_refused(frequency):
    with pytest.raises(ValueError, match="1..7"):
        Schedule(date(2025, 4, 1), None, frequency)


def test_month_arithmetic_wraps_the_year():
    assert Month(2025, 12).next() == Month(2026, 1)
    assert Month(2028, 2).last_day == date(2028, 2, 29)
    assert str(Month(2025, 4)) == "2025-04"
    assert Month.parse("2025-04") == Month(2025, 4)


def test_a_fixed_window_is_one_charge_in_the_checkout_month():
    [period] = charge_periods(Schedule(date(2024, 1, 1), date(2024, 1, 31), 7), date(2025, 4, 10))
    assert (period.month, period.at_checkout, days(period.dates)) == (Month(2025, 4), True, [1, 8, 15, 22, 29])


def test_a_recurring_item_starting_next_month_charges_nothing_now():
    now, later = charge_periods(Schedule(date(2025, 5, 1), None, 7), date(2025, 4, 10))
    assert (now.month, now.dates) == (Month(2025, 4), ())
    assert (later.month, days(later.dates)) == (Month(2025, 5), [1, 8, 15, 22, 29])
