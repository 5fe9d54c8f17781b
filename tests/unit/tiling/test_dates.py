from datetime import date, timedelta

from services.tiling.domain import DateSet


def test_every_third_day_of_april_is_the_worked_examples_ten_dates():
    # docs/domain.md, Pricing: frequency 3, reference 2025-01-01 -> Apr 1, 4, ..., 28 (10 dates)
    ds = DateSet.every(date(2025, 4, 1), date(2025, 4, 30), 3)
    assert len(ds) == 10
    assert ds.dates()[0] == date(2025, 4, 1)
    assert ds.dates()[-1] == date(2025, 4, 28)


def test_set_algebra_aligns_different_starts():
    a = DateSet.every(date(2025, 4, 1), date(2025, 4, 10))
    b = DateSet.every(date(2025, 4, 5), date(2025, 4, 15))
    assert (a & b).dates() == [date(2025, 4, d) for d in range(5, 11)]
    assert (b - a).dates() == [date(2025, 4, d) for d in range(11, 16)]
    assert len(a | b) == 15
    assert not (a - (a | b))


def test_equal_sets_compare_equal_whatever_their_history():
    a = DateSet.every(date(2025, 4, 1), date(2025, 4, 10))
    b = DateSet.of([date(2025, 4, 1) + timedelta(days=i) for i in range(10)])
    c = (a | DateSet.of([date(2025, 3, 1)])) - DateSet.of([date(2025, 3, 1)])
    assert a == b == c
    assert hash(a) == hash(c)


def test_a_year_of_daily_dates_is_46_bytes():
    year = DateSet.every(date(2025, 1, 1), date(2025, 12, 31))
    assert len(year) == 365
    assert len(year.to_bytes()) == 46  # ceil(365 / 8)
    assert DateSet.from_bytes(year.start, year.to_bytes()) == year


def test_membership():
    ds = DateSet.every(date(2025, 4, 1), date(2025, 4, 30), 7)
    assert date(2025, 4, 8) in ds
    assert date(2025, 4, 9) not in ds
    assert date(2025, 3, 25) not in ds
