"""Properties of the estimate that must hold for any input (hypothesis).

Money is rounded half-even to cents per line (docs/decisions/0002-per-line-half-even-rounding.md), and a line that
straddles a tier bound is split into one line per bracket, each rounded on its own. So:

- lines add up to the month totals and the total exactly (always);
- each line is within half a cent of its own quantity × rate;
- monotonicity (more area or dates never cheaper; more prior spend never dearer) holds exactly for
  the exact amounts but, after per-line rounding, only within a tolerance of one cent per imagery
  line of the two estimates compared (each rounding may move a line by up to half a cent, and the
  rounded spend moving through the brackets shifts a bracket bound by at most that much).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.pricing.domain import LineKind, PolygonPart, PricedCell, PricingItem, Schedule, estimate

CHECKOUT = date(2025, 4, 10)
MODELS = {
    "Stratus2": {"Sentinel1", "Sentinel2", "Landsat89"},
    "Stratus2Fast": {"Sentinel1", "Sentinel2", "Landsat89"},
    "Nimbus": {"Sentinel2", "Sentinel1"},
}

areas = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("3000"), places=2)
spends = st.decimals(min_value=Decimal(0), max_value=Decimal("60000"), places=2)
models = st.sampled_from(sorted(MODELS))
frequencies = st.integers(1, 7)
lengths = st.integers(0, 80)  # days in the window after `from`


def polygon(model, area_list, frequency, length, storage=1, requests=1, label="p"):
    return PricingItem(
        label, model, MODELS[model], Schedule(date(2025, 3, 1), date(2025, 3, 1) + timedelta(days=length), frequency),
        parts=tuple(PolygonPart(f"part {i}", a) for i, a in enumerate(area_list)),
        storage_months=storage, api_requests=requests,
    )


def grid(model, area_list, frequency, length, label="g"):
    return PricingItem(
        label, model, MODELS[model], Schedule(date(2025, 3, 1), date(2025, 3, 1) + timedelta(days=length), frequency),
        cells=tuple(PricedCell(f"c{i}", "tile" if i % 2 else "minitile", a) for i, a in enumerate(area_list)),
    )


CENT = Decimal("0.01")


def tolerance(*estimates) -> Decimal:
    """One cent per imagery line of the estimates compared (see the module docstring)."""
    return CENT * max(sum(1 for ln in e.lines if ln.kind is LineKind.IMAGERY) for e in estimates)


common = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(models, st.lists(areas, min_size=1, max_size=4), st.integers(0, 3), areas, frequencies, lengths, spends)
def test_total_never_decreases_when_an_area_grows(model, area_list, which, extra, frequency, length, spend):
    which %= len(area_list)
    grown = [a + extra if i == which else a for i, a in enumerate(area_list)]
    for build in (polygon, grid):
        before = estimate([build(model, area_list, frequency, length)], checkout_day=CHECKOUT, simulated_spend=spend)
        after = estimate([build(model, grown, frequency, length)], checkout_day=CHECKOUT, simulated_spend=spend)
        assert after.total >= before.total - tolerance(before, after)


@common
@given(models, st.lists(areas, min_size=1, max_size=4), frequencies, lengths, st.integers(1, 60), spends)
def test_total_never_decreases_when_dates_grow(model, area_list, frequency, length, more_days, spend):
    before = estimate([polygon(model, area_list, frequency, length)], checkout_day=CHECKOUT, simulated_spend=spend)
    after = estimate([polygon(model, area_list, frequency, length + more_days)], checkout_day=CHECKOUT,
                     simulated_spend=spend)
    assert after.total >= before.total - tolerance(before, after)


@common
@given(models, st.lists(areas, min_size=1, max_size=4), frequencies, lengths, spends, spends)
def test_more_spend_already_in_the_month_never_costs_more(model, area_list, frequency, length, spend_a, spend_b):
    low, high = sorted((spend_a, spend_b))
    items = [polygon(model, area_list, frequency, length, label="a"),
             grid(model, area_list, frequency, length, label="b")]
    at_low = estimate(items, checkout_day=CHECKOUT, simulated_spend=low)
    at_high = estimate(items, checkout_day=CHECKOUT, simulated_spend=high)
    assert at_high.total <= at_low.total + tolerance(at_low, at_high)


@common
@given(models, st.lists(areas, min_size=1, max_size=4), frequencies, lengths, spends, st.integers(1, 4),
       st.integers(1, 4))
def test_lines_always_add_up_to_the_totals(model, area_list, frequency, length, spend, storage, requests):
    items = [polygon(model, area_list, frequency, length, storage, requests, label="a"),
             grid(model, area_list, frequency, length, label="b"),
             PricingItem("c", model, MODELS[model], Schedule(date(2025, 4, 1), None, frequency),
                         parts=(PolygonPart("x", area_list[0]),))]
    result = estimate(items, checkout_day=CHECKOUT, simulated_spend=spend)
    for month in result.months:
        assert sum(line.amount for line in result.lines if line.month == month.month) == month.total
    assert sum(m.total for m in result.months) == result.total
    assert sum(line.amount for line in result.lines) == result.total
    assert all(line.amount == line.amount.quantize(Decimal("0.01")) for line in result.lines)
    assert sum(m.total for m in result.months if m.at_checkout) == result.due_at_checkout


@common
@given(models, areas, frequencies, lengths, spends)
def test_each_line_is_its_own_quantity_times_rate_rounded_to_cents(model, area, frequency, length, spend):
    # Half a cent of rounding; the displayed quantity is rounded to 6 decimals, so allow that too.
    result = estimate([grid(model, [area, area + 1, area + 2], frequency, length)], checkout_day=CHECKOUT,
                      simulated_spend=spend)
    for line in result.lines:
        assert abs(line.quantity * line.rate - line.amount) <= Decimal("0.0050001")
