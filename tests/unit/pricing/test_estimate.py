"""The estimate calculation, docs/domain.md, Pricing. Every figure is worked by hand in a comment."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.pricing.domain import LineKind, Month, PricingMode, Schedule, estimate, price_month
from shared.catalog import ModelFamily

from .conftest import FULL_TILE_KM2, april_2025, grid_item, minitile, polygon_item, tile

APRIL = Month(2025, 4)
CHECKOUT = date(2025, 4, 10)


def imagery(result):
    return [line for line in result.lines if line.kind is LineKind.IMAGERY]


# ------------------------------------------------------------- the worked examples of docs/domain.md


def test_worked_example_polygon_12_km2_every_third_day_in_april_costs_24_eur():
    # Reference 2025-01-01, frequency 3: Jan 1 + 90 days = Apr 1, so Apr 1, 4, ..., 28 = 10 dates.
    # 12 km² × 10 = 120 km²·images × €0.20 (Stratus-2, no add-ons, polygon factor 1) = €24.00.
    result = estimate([polygon_item("12")], checkout_day=CHECKOUT)

    assert [d.day for d in result.image_dates[0].dates] == [1, 4, 7, 10, 13, 16, 19, 22, 25, 28]
    [line] = imagery(result)
    assert (line.image_dates, line.quantity, line.rate, line.amount) == (10, Decimal("120"), Decimal("0.2"),
                                                                         Decimal("24.00"))
    assert result.total == Decimal("24.00")
    assert result.price_book_version == "2025-01"
    assert result.currency == "EUR"


def test_worked_example_full_tile_straddles_two_brackets_for_1017_eur():
    # 2,621.44 km² × 10 dates = 26,214.4 km²·images at 0.20 × 0.20 (tile) = €0.04.
    # Tier 1 holds €1,000 = 25,000 km²·images -> €1,000.00;
    # the rest, 1,214.4 km²·images, at 0.20 × (1 − 0.65) × 0.20 = €0.014 -> €17.0016 -> €17.00.
    result = estimate([grid_item(tile())], checkout_day=CHECKOUT)

    first, second = imagery(result)
    assert (first.tier, first.quantity, first.rate, first.amount) == (1, Decimal("25000"), Decimal("0.04"),
                                                                      Decimal("1000.00"))
    assert (second.tier, second.quantity, second.rate, second.amount) == (2, Decimal("1214.4"), Decimal("0.014"),
                                                                          Decimal("17.00"))
    assert result.total == Decimal("1017.00")
    assert [(t.tier, t.spend_before, t.spend_after) for t in result.tiers] == [
        (1, Decimal("0.00"), Decimal("1000.00")),
        (2, Decimal("1000.00"), Decimal("1017.00")),
    ]


# ------------------------------------------------------------------ tier straddling


def test_stratus_order_straddles_from_tier_2_into_tier_3():
    # Spend so far €2,900. Stratus-2 100 km² daily over April: 30 dates -> 3,000 km²·images.
    # Tier 2 rate 0.20 × 0.35 = €0.07; €100 left in it -> 100 / 0.07 = 1,428.571429 km²·images, €100.00.
    # Rest 3,000 − 1,428.571429 = 1,571.428571 at tier 3 rate 0.20 × 0.20 = €0.04 -> €62.857143 -> €62.86.
    result = estimate([polygon_item("100", schedule=april_2025(frequency=1, reference=None))],
                      checkout_day=CHECKOUT, simulated_spend=Decimal("2900"))

    first, second = imagery(result)
    assert (first.tier, first.quantity, first.amount) == (2, Decimal("1428.571429"), Decimal("100.00"))
    assert (second.tier, second.rate, second.amount) == (3, Decimal("0.04"), Decimal("62.86"))
    assert result.total == Decimal("162.86")


def test_stratus_order_reaches_the_top_bracket():
    # Spend €49,990. Stratus-3 1,000 km² daily in April -> 30,000 km²·images.
    # Tier 4 rate 0.20 × 0.15 = €0.03; €10 left -> 333.333… km²·images, €10.00.
    # Rest 29,666.666… at tier 5 rate 0.20 × 0.10 = €0.02 -> €593.333… -> €593.33. Total €603.33.
    result = estimate([polygon_item("1000", model="Stratus3", schedule=april_2025(1, None))],
                      checkout_day=CHECKOUT, simulated_spend=Decimal("49990"))

    assert [(line.tier, line.amount) for line in imagery(result)] == [(4, Decimal("10.00")), (5, Decimal("593.33"))]
    assert result.total == Decimal("603.33")


def test_nimbus_order_straddles_tier_1_into_tier_2_at_nimbus_discounts():
    # Nimbus with Sentinel-2 only: €0.10. 500 km² daily in April -> 15,000 km²·images.
    # Tier 1: €1,000 / 0.10 = 10,000 km²·images -> €1,000.00.
    # Rest 5,000 at 0.10 × (1 − 0.25) = €0.075 -> €375.00. Total €1,375.00.
    result = estimate([polygon_item("500", model="Nimbus", constellations={"Sentinel2"},
                                    schedule=april_2025(1, None))], checkout_day=CHECKOUT)

    assert [(line.tier, line.quantity, line.rate, line.amount) for line in imagery(result)] == [
        (1, Decimal("10000"), Decimal("0.1"), Decimal("1000.00")),
        (2, Decimal("5000"), Decimal("0.075"), Decimal("375.00")),
    ]
    assert result.total == Decimal("1375.00")


def test_nimbus_order_straddles_tier_3_into_tier_4():
    # Spend €11,900. 15,000 km²·images as above. Tier 3 (50 %): €0.05, €100 left -> 2,000 km²·images, €100.00.
    # Rest 13,000 at tier 4 (70 %): €0.03 -> €390.00. Total €490.00.
    result = estimate([polygon_item("500", model="Nimbus", constellations={"Sentinel2"},
                                    schedule=april_2025(1, None))],
                      checkout_day=CHECKOUT, simulated_spend="11900")

    assert [(line.tier, line.quantity, line.amount) for line in imagery(result)] == [
        (3, Decimal("2000"), Decimal("100.00")),
        (4, Decimal("13000"), Decimal("390.00")),
    ]
    assert result.total == Decimal("490.00")


def test_spend_exactly_on_a_bound_prices_in_the_upper_bracket():
    # Spend €1,000.00 is the start of tier 2: 120 km²·images × 0.20 × 0.35 = €8.40.
    result = estimate([polygon_item("12")], checkout_day=CHECKOUT, simulated_spend="1000")
    assert [(line.tier, line.amount) for line in imagery(result)] == [(2, Decimal("8.40"))]


def test_spend_source_is_read_per_family_and_month():
    # Stratus spend €5,000 (tier 3) but Nimbus spend 0: a Nimbus item pays its tier 1 rate.
    # Nimbus S2 only, 12 km² × 10 dates = 120 km²·images × €0.10 = €12.00.
    def spend(month, family):
        return Decimal("5000") if (month, family) == (APRIL, ModelFamily.STRATUS) else Decimal(0)

    result = estimate([polygon_item("12", model="Nimbus", constellations={"Sentinel2"})],
                      checkout_day=CHECKOUT, spend=spend)
    assert result.total == Decimal("12.00")


def test_cart_items_consume_the_brackets_in_order():
    # Full tile first (€1,017.00, see the worked example) leaves spend at €1,017.0016, in tier 2;
    # then 12 km² polygon: 120 km²·images × 0.20 × 0.35 = €8.40. Total €1,025.40.
    tile_first = estimate([grid_item(tile(), label="a"), polygon_item("12", label="b")], checkout_day=CHECKOUT)
    assert [(line.item, line.tier, line.amount) for line in imagery(tile_first)] == [
        ("a", 1, Decimal("1000.00")), ("a", 2, Decimal("17.00")), ("b", 2, Decimal("8.40")),
    ]
    assert tile_first.total == Decimal("1025.40")

    # Polygon first: €24.00 at tier 1 leaves €976 in tier 1 -> 976 / 0.04 = 24,400 km²·images of the tile;
    # the other 26,214.4 − 24,400 = 1,814.4 at €0.014 = €25.4016 -> €25.40. Total 24 + 976 + 25.40 = €1,025.40.
    polygon_first = estimate([polygon_item("12", label="b"), grid_item(tile(), label="a")], checkout_day=CHECKOUT)
    assert [(line.item, line.tier, line.amount) for line in imagery(polygon_first)] == [
        ("b", 1, Decimal("24.00")), ("a", 1, Decimal("976.00")), ("a", 2, Decimal("25.40")),
    ]


def test_families_have_separate_brackets_in_one_cart():
    # The full tile pushes Stratus into tier 2; a Nimbus 12 km² item still pays tier 1: 120 × 0.10 = €12.00.
    result = estimate([grid_item(tile(), label="a"),
                       polygon_item("12", label="b", model="Nimbus", constellations={"Sentinel2"})],
                      checkout_day=CHECKOUT)
    assert [(line.item, line.tier, line.amount) for line in imagery(result)][-1] == ("b", 1, Decimal("12.00"))
    assert result.total == Decimal("1029.00")  # 1,017.00 + 12.00


# ------------------------------------------------------------------ add-ons


FIVE_DATES = Schedule(date(2025, 4, 1), date(2025, 4, 30), 7)  # Apr 1, 8, 15, 22, 29


@pytest.mark.parametrize(
    ("model", "constellations", "rate", "total"),
    [
        # 10 km² × 5 dates = 50 km²·images.
        ("Stratus2", {"Sentinel1", "Sentinel2", "Landsat89"}, "0.2", "10.00"),  # all required: no add-on, 50 × 0.20
        ("Stratus2Fast", {"Sentinel1", "Sentinel2"}, "0.18", "9.00"),  # 50 × 0.18
        ("Stratus2Fast", {"Sentinel1", "Sentinel2", "Landsat89"}, "0.2", "10.00"),  # (0.18 + 0.02) × 50
        ("Nimbus", {"Sentinel2"}, "0.1", "5.00"),  # 50 × 0.10
        ("Nimbus", {"Sentinel2", "Sentinel1"}, "0.14", "7.00"),  # (0.10 + 0.04) × 50
        ("Nimbus", {"Sentinel2", "Sentinel1", "Landsat89"}, "0.16", "8.00"),  # (0.10 + 0.04 + 0.02) × 50
    ],
)
def test_add_ons_are_charged_only_when_optional_for_the_model_and_selected(model, constellations, rate, total):
    result = estimate([polygon_item("10", model=model, constellations=constellations, schedule=FIVE_DATES)],
                      checkout_day=CHECKOUT)
    [line] = imagery(result)
    assert (line.image_dates, line.rate, line.amount) == (5, Decimal(rate), Decimal(total))


# ------------------------------------------------------------------ minimum billable area


def test_minimum_billable_area_applies_per_polygon():
    # Parts 0.2 km² and 3 km²: billed 0.5 + 3. 5 dates: 2.5 × 0.20 = €0.50 and 15 × 0.20 = €3.00.
    result = estimate([polygon_item("0.2", "3", schedule=FIVE_DATES)], checkout_day=CHECKOUT)

    assert [(a.area_km2, a.billable_km2) for a in result.areas] == [(Decimal("0.2"), Decimal("0.5")),
                                                                    (Decimal("3"), Decimal("3"))]
    assert [line.amount for line in imagery(result)] == [Decimal("0.50"), Decimal("3.00")]
    assert result.total == Decimal("3.50")


def test_minimum_billable_area_applies_to_a_multipolygon_as_one_unit():
    # A MultiPolygon of two 0.2 km² polygons is one part of 0.4 km², billed 0.5: 0.5 × 5 × 0.20 = €0.50
    # (as two separate Polygons it would be 2 × 0.5 = 1.0 km² -> €1.00).
    as_multipolygon = estimate([polygon_item("0.4", schedule=FIVE_DATES)], checkout_day=CHECKOUT)
    as_two_polygons = estimate([polygon_item("0.2", "0.2", schedule=FIVE_DATES)], checkout_day=CHECKOUT)
    assert as_multipolygon.total == Decimal("0.50")
    assert as_two_polygons.total == Decimal("1.00")


# ------------------------------------------------------------------ tile and minitile factors


def test_clipped_edge_tile_is_billed_at_its_area_with_the_tile_factor():
    # 1,000 km² clipped tile × 5 dates = 5,000 km²·images × 0.20 × 0.20 = €200.00.
    result = estimate([grid_item(tile(area="1000"), schedule=FIVE_DATES)], checkout_day=CHECKOUT)
    [line] = imagery(result)
    assert (line.mode, line.rate, line.amount) == (PricingMode.TILE, Decimal("0.04"), Decimal("200.00"))


def test_clipped_minitile_uses_the_minitile_factor_and_no_minimum_area():
    # 4 km² clipped minitile: 20 km²·images × 0.20 × 0.50 = €2.00.
    # 0.3 km² sliver (no 0.5 km² minimum for grid cells): 1.5 × €0.10 = €0.15.
    result = estimate([grid_item(minitile("m1", "4"), schedule=FIVE_DATES, label="a"),
                       grid_item(minitile("m2", "0.3"), schedule=FIVE_DATES, label="b")], checkout_day=CHECKOUT)
    assert [(line.mode, line.rate, line.amount) for line in imagery(result)] == [
        (PricingMode.MINITILE, Decimal("0.1"), Decimal("2.00")),
        (PricingMode.MINITILE, Decimal("0.1"), Decimal("0.15")),
    ]


def test_tiles_and_minitiles_mixed_in_one_item_get_one_line_per_level():
    # Tile 1,000 km²: 5,000 × €0.04 = €200.00. Two minitiles 10.24 km²: 20.48 × 5 = 102.4 × €0.10 = €10.24.
    result = estimate([grid_item(tile(area="1000"), minitile("m1"), minitile("m2"), schedule=FIVE_DATES)],
                      checkout_day=CHECKOUT)
    assert [(line.label, line.area_km2, line.amount) for line in imagery(result)] == [
        ("1 tile", Decimal("1000"), Decimal("200.00")),
        ("2 minitiles", Decimal("20.48"), Decimal("10.24")),
    ]
    assert [line.cells for line in imagery(result)] == [("tile-1",), ("m1", "m2")]


def test_deduplicated_dates_split_cells_into_groups_with_the_same_dates():
    # Worked-example dates (10). m3 already owns Apr 4, so it has 9 dates left.
    # m1+m2: 20.48 km² × 10 = 204.8 × €0.10 = €20.48;
    # m3: 10.24 × 9 = 92.16 × €0.10 = €9.216 -> €9.22 (rounded on its own line).
    result = estimate([grid_item(minitile("m1"), minitile("m2"), minitile("m3", excluded={date(2025, 4, 4)}))],
                      checkout_day=CHECKOUT)
    assert [(line.cells, line.image_dates, line.quantity) for line in imagery(result)] == [
        (("m1", "m2"), 10, Decimal("204.8")),
        (("m3",), 9, Decimal("92.16")),
    ]
    assert result.total == Decimal("29.70")  # lines €20.48 + €9.22


def test_a_cell_whose_dates_are_all_owned_costs_nothing():
    owned = set(april_2025().all_dates())
    result = estimate([grid_item(minitile("m1", excluded=owned))], checkout_day=CHECKOUT)
    assert imagery(result) == []
    assert result.total == Decimal("0")


# ------------------------------------------------------------------ extras


def test_storage_beyond_the_included_month_is_charged_without_mode_factor_or_discount():
    # Full tile, 5 dates: 13,107.2 km²·images; imagery 13,107.2 × €0.04 = €524.288 -> €524.29.
    # Storage 3 months = 2 extra: 13,107.2 × 2 = 26,214.4 km²·images·months × €0.00001 = €0.262144 -> €0.26.
    result = estimate([grid_item(tile(), schedule=FIVE_DATES, storage_months=3)], checkout_day=CHECKOUT)
    storage = [line for line in result.lines if line.kind is LineKind.STORAGE]
    assert [(line.quantity, line.rate, line.amount) for line in storage] == [
        (Decimal("26214.4"), Decimal("0.00001"), Decimal("0.26"))
    ]
    assert result.total == Decimal("524.55")
    assert result.months[0].tier_spend[ModelFamily.STRATUS] == Decimal("524.29")  # extras do not count


def test_extra_downloads_are_priced_per_unit_of_10_km2_per_image():
    # Full tile: ceil(2,621.44 / 10) = 263 units per image; 5 dates × 1 extra request = 1,315 units;
    # €5 per 2,500 units = €0.002 per unit -> €2.63. Imagery €524.29 -> total €526.92.
    result = estimate([grid_item(tile(), schedule=FIVE_DATES, api_requests=2)], checkout_day=CHECKOUT)
    downloads = [line for line in result.lines if line.kind is LineKind.DOWNLOADS]
    assert [(line.quantity, line.rate, line.amount) for line in downloads] == [
        (Decimal("1315"), Decimal("0.002"), Decimal("2.63"))
    ]
    assert result.total == Decimal("526.92")


def test_extras_are_not_discounted_at_a_high_tier():
    # Polygon 25 km², 5 dates, 3 requests (2 extra), 3 storage months (2 extra), spend €60,000 (tier 5).
    # Imagery: 125 km²·images × 0.20 × 0.10 = €2.50.
    # Storage: 125 × 2 = 250 × €0.00001 = €0.0025 -> €0.00 (half-even).
    # Downloads: ceil(25/10) = 3 units × 5 dates × 2 = 30 units × €0.002 = €0.06.
    result = estimate([polygon_item("25", schedule=FIVE_DATES, api_requests=3, storage_months=3)],
                      checkout_day=CHECKOUT, simulated_spend="60000")
    assert [(line.kind, line.amount) for line in result.lines] == [
        (LineKind.IMAGERY, Decimal("2.50")), (LineKind.STORAGE, Decimal("0.00")), (LineKind.DOWNLOADS, Decimal("0.06")),
    ]


# ------------------------------------------------------------------ charge months


def test_a_historical_window_is_charged_entirely_in_the_checkout_month():
    # Jan 1 – Mar 31 2024 is 91 days (leap year); weekly from Jan 1: days 0, 7, …, 84 -> 13 dates.
    # 10 km² × 13 = 130 km²·images × €0.20 = €26.00, all in April 2025.
    item = polygon_item("10", schedule=Schedule(date(2024, 1, 1), date(2024, 3, 31), 7))
    result = estimate([item], checkout_day=CHECKOUT)
    assert [(m.month, m.at_checkout, m.total) for m in result.months] == [(APRIL, True, Decimal("26.00"))]
    assert len(result.image_dates[0].dates) == 13


def test_recurring_item_across_a_leap_day_and_the_month_boundary():
    # From 2028-02-01 weekly, recurring, checked out 2028-02-15.
    # Feb 2028 has 29 days: Feb 1, 8, 15, 22, 29 -> 5 dates; 10 km² × 5 × €0.20 = €10.00 due now.
    # March preview: Feb 29 + 7 = Mar 7, 14, 21, 28 -> 4 dates; 40 × €0.20 = €8.00.
    item = polygon_item("10", schedule=Schedule(date(2028, 2, 1), None, 7))
    result = estimate([item], checkout_day=date(2028, 2, 15))

    feb, mar = result.image_dates
    assert [d.day for d in feb.dates] == [1, 8, 15, 22, 29]
    assert [d.day for d in mar.dates] == [7, 14, 21, 28]
    assert [(m.month, m.at_checkout, m.total) for m in result.months] == [
        (Month(2028, 2), True, Decimal("10.00")),
        (Month(2028, 3), False, Decimal("8.00")),
    ]
    assert (result.due_at_checkout, result.total) == (Decimal("10.00"), Decimal("18.00"))


def test_recurring_item_started_in_an_earlier_month_charges_the_backlog_at_checkout():
    # From 2025-02-01 weekly, checked out 2025-04-10: Feb 1, 8, 15, 22; Mar 1, 8, 15, 22, 29;
    # Apr 5, 12, 19, 26 -> 13 dates now (€26.00 for 10 km²); May 3, 10, 17, 24, 31 -> 5 dates (€10.00).
    item = polygon_item("10", schedule=Schedule(date(2025, 2, 1), None, 7))
    result = estimate([item], checkout_day=CHECKOUT)
    assert [len(d.dates) for d in result.image_dates] == [13, 5]
    assert [m.total for m in result.months] == [Decimal("26.00"), Decimal("10.00")]


def test_next_months_preview_starts_from_that_months_own_spend():
    # Checkout in April with April spend €5,000 (tier 3), May spend 0: the 12 km² recurring item pays
    # April: Apr 1, 4, …, 28 (10 dates, reference Jan 1) × 12 × 0.20 × 0.20 = €4.80;
    # May: May 1 (Apr 28 + 3), 4, …, 31 = 11 dates × 12 = 132 × €0.20 = €26.40.
    item = polygon_item("12", schedule=Schedule(date(2025, 4, 1), None, 3, date(2025, 1, 1)))
    result = estimate([item], checkout_day=CHECKOUT,
                      spend=lambda month, family: Decimal("5000") if month == APRIL else Decimal(0))
    assert [m.total for m in result.months] == [Decimal("4.80"), Decimal("26.40")]


def test_checkout_pricing_can_leave_out_the_next_month_preview():
    item = polygon_item("10", schedule=Schedule(date(2028, 2, 1), None, 7))
    result = estimate([item], checkout_day=date(2028, 2, 15), include_next_month=False)
    assert [m.month for m in result.months] == [Month(2028, 2)]
    assert result.total == result.due_at_checkout == Decimal("10.00")


def test_a_renewal_month_is_priced_at_that_months_spend():
    # Renewal of a weekly full tile for March 2028 (Mar 7, 14, 21, 28 = 4 dates), March spend €990:
    # 10,485.76 km²·images; €10 left in tier 1 -> 250 km²·images at €0.04 = €10.00;
    # rest 10,235.76 × €0.014 = €143.30064 -> €143.30. Total €153.30.
    item = grid_item(tile(), schedule=Schedule(date(2028, 2, 1), None, 7))
    result = price_month([item], Month(2028, 3), spend=lambda month, family: Decimal("990"))
    assert [(line.tier, line.quantity, line.amount) for line in imagery(result)] == [
        (1, Decimal("250"), Decimal("10.00")),
        (2, Decimal("10235.76"), Decimal("143.30")),
    ]
    assert result.total == Decimal("153.30")
    assert result.due_at_checkout == Decimal("0")


# ------------------------------------------------------------------ shape and input checks


def test_lines_add_up_to_month_totals_and_the_total():
    result = estimate([grid_item(tile(), label="a", storage_months=2, api_requests=2),
                       polygon_item("0.3", "7", label="b", schedule=Schedule(date(2025, 4, 1), None, 2))],
                      checkout_day=CHECKOUT)
    for month in result.months:
        assert sum(line.amount for line in result.lines if line.month == month.month) == month.total
    assert sum(line.amount for line in result.lines) == result.total


def test_areas_are_refused_as_floats():
    from services.pricing.domain import PolygonPart

    with pytest.raises(ValueError, match="float"):
        PolygonPart("p", 12.0)


def test_an_item_needs_parts_or_cells_but_not_both():
    from services.pricing.domain import PolygonPart, PricingItem

    with pytest.raises(ValueError, match="exactly one"):
        PricingItem("x", "Stratus2", {"Sentinel1", "Sentinel2", "Landsat89"}, april_2025(),
                    parts=(PolygonPart("p", Decimal(1)),), cells=(tile(),))


def test_full_tile_area_is_51_2_km_squared():
    assert FULL_TILE_KM2 == Decimal("51.2") * Decimal("51.2")


def test_payload_shows_amounts_as_two_decimal_strings_in_eur():
    from services.pricing.domain import estimate_payload

    payload = estimate_payload(estimate([grid_item(tile())], checkout_day=CHECKOUT))
    assert (payload["total"], payload["currency"], payload["price_book_version"]) == ("1017.00", "EUR", "2025-01")
    assert [line["amount"] for line in payload["lines"]] == ["1000.00", "17.00"]
    assert payload["image_dates"][0]["dates"][:2] == ["2025-04-01", "2025-04-04"]


def test_model_listing_shows_rates_and_constellations():
    from services.pricing.domain import model_listing

    fast = next(m for m in model_listing() if m["model"] == "Stratus2Fast")
    assert (fast["display_name"], fast["base_rate_per_km2"]) == ("Stratus-2 Fast", "0.18")
    assert fast["required_constellations"] == ["Sentinel1", "Sentinel2"]
    assert [(o["constellation"], o["add_on_rate_per_km2"]) for o in fast["optional_constellations"]] == [("Landsat89",
                                                                                                          "0.02")]


# ------------------------------------------------------------------ rounding per line


def test_each_line_is_rounded_on_its_own_and_totals_are_sums_of_rounded_lines():
    # One date (Apr 1). Clipped tile 0.125 km² × €0.04 = €0.005 -> €0.00 (half-even);
    # clipped minitile 0.05 km² × €0.10 = €0.005 -> €0.00. Total = €0.00 + €0.00 = €0.00,
    # not round(€0.010) = €0.01 (docs/domain.md, Pricing: rounded per line, totals sum the lines).
    one_date = Schedule(date(2025, 4, 1), date(2025, 4, 1), 1)
    result = estimate([grid_item(tile(area="0.125"), minitile(area="0.05"), schedule=one_date)],
                      checkout_day=CHECKOUT)
    assert [line.amount for line in imagery(result)] == [Decimal("0.00"), Decimal("0.00")]
    assert result.total == Decimal("0.00")


def test_each_bracket_part_of_a_straddling_line_is_rounded_on_its_own():
    # Spend so far €999.99, Stratus-2 tile at €0.04: one tile 1 km², one date at Apr 1 -> €0.04 exact.
    # Bracket 1 has €0.01 left: 0.25 km²·images at €0.04 = €0.01; the remaining 0.75 km²·images at
    # €0.014 = €0.0105 -> €0.01 (half-even). Total €0.02.
    one_date = Schedule(date(2025, 4, 1), date(2025, 4, 1), 1)
    result = estimate([grid_item(tile(area="1"), schedule=one_date)], checkout_day=CHECKOUT,
                      simulated_spend=Decimal("999.99"))
    assert [(line.tier, line.quantity, line.amount) for line in imagery(result)] == [
        (1, Decimal("0.25"), Decimal("0.01")),
        (2, Decimal("0.75"), Decimal("0.01")),
    ]
    assert result.total == Decimal("0.02")
