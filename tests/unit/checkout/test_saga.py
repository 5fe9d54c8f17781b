"""The checkout saga's steps and pure decisions."""
from datetime import date
from decimal import Decimal

import pytest

from services.checkout.domain.saga import (
    IllegalStep,
    Step,
    advance,
    apply_coverage,
    dates_charged_at_checkout,
    missing_credit,
    price_changed,
)
from shared.vocabulary import StoredOrderItem


def test_the_happy_path_and_failure_from_every_running_step():
    assert advance(advance(advance(Step.FREEZING, Step.RESERVING), Step.PRICING), Step.COMPLETED) == Step.COMPLETED
    assert advance(Step.FREEZING, Step.PRICING) == Step.PRICING  # no grid items: nothing to reserve
    for step in (Step.FREEZING, Step.RESERVING, Step.PRICING):
        assert advance(step, Step.FAILED) == Step.FAILED


@pytest.mark.parametrize("current, target", [
    (Step.COMPLETED, Step.FAILED), (Step.FAILED, Step.PRICING), (Step.FREEZING, Step.COMPLETED),
    (Step.PRICING, Step.RESERVING),
])
def test_a_finished_checkout_never_moves_and_steps_are_not_skipped(current, target):
    with pytest.raises(IllegalStep):
        advance(current, target)


def item(**kw):
    base = {"aoi_id": "aoi-1", "model": "Stratus2", "constellations": ["Sentinel1", "Sentinel2", "Landsat89"],
            "from": "2025-04-01", "to": "2025-04-30", "image_frequency": 3, "reference_date": "2025-01-01"}
    return StoredOrderItem.model_validate({**base, **kw})


def test_a_fixed_window_reserves_every_date_of_the_worked_example():
    # docs/domain.md, Pricing: frequency 3 from reference 2025-01-01 in April 2025 -> Apr 1, 4, ..., 28 (10 dates)
    dates = dates_charged_at_checkout(item(), today=date(2025, 3, 15))
    assert dates == [date(2025, 4, d) for d in range(1, 29, 3)]
    assert len(dates) == 10


def test_a_recurring_item_reserves_only_up_to_the_checkout_month():
    # recurring from 2025-04-01, daily, checkout on 2025-04-20: April's 30 dates, not May's
    dates = dates_charged_at_checkout(item(to=None, image_frequency=1, reference_date=None), today=date(2025, 4, 20))
    assert dates[0] == date(2025, 4, 1) and dates[-1] == date(2025, 4, 30) and len(dates) == 30


def test_coverage_outcomes_replace_only_the_grid_items_cells():
    snapshot = [{"item_id": "a", "mode": "polygon", "parts": [{"label": "p1", "area_km2": "12"}]},
                {"item_id": "b", "mode": "grid", "cells": [{"guid": "g1"}, {"guid": "g2"}]}]
    outcome = [{"item_id": "b", "cells": [{"guid": "g2", "excluded_dates": ["2025-04-01"]}]}]
    out = apply_coverage(snapshot, outcome)
    assert out[0] == snapshot[0]
    assert out[1]["cells"] == [{"guid": "g2", "excluded_dates": ["2025-04-01"]}]


@pytest.mark.parametrize("balance, overdraft, amount, missing", [
    ("100.00", "0", "24.00", "0"),
    ("24.00", "0", "24.00", "0"),          # exactly enough
    ("20.00", "0", "24.00", "4.00"),
    ("20.00", "5.00", "24.00", "0"),       # the overdraft covers the rest
    ("-10.00", "50.00", "1017.00", "977.00"),  # 1017 - (-10 + 50)
])
def test_missing_credit_counts_the_overdraft(balance, overdraft, amount, missing):
    assert missing_credit(Decimal(balance), Decimal(overdraft), Decimal(amount)) == Decimal(missing)


def test_a_changed_price_names_both_totals():
    assert price_changed(Decimal("24.00"), Decimal("24.00")) is None
    f = price_changed(Decimal("24.00"), Decimal("1017.00"))
    assert f.code == "price_changed" and "EUR 1017.00" in f.reason and "EUR 24.00" in f.reason
