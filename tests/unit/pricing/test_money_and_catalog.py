"""EUR money helpers and the model catalogue."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from shared.catalog import MODELS, Constellation, ModelFamily, ModelName, attribution_notices, model_spec
from shared.money import CurrencyMismatch, Money, MoneyError, format_amount, parse_amount, round_cents, to_decimal


def test_rounding_is_half_even_to_cents():
    assert round_cents(Decimal("0.125")) == Decimal("0.12")
    assert round_cents(Decimal("0.135")) == Decimal("0.14")
    assert round_cents(Decimal("17.0016")) == Decimal("17.00")
    assert round_cents(Fraction(1, 400)) == Decimal("0.00")  # 0.0025 -> 0.00
    assert round_cents(Fraction(2000, 7)) == Decimal("285.71")  # 285.714…


def test_amounts_are_formatted_with_two_decimals():
    assert format_amount(Decimal("1017")) == "1017.00"
    assert format_amount(Decimal("-0.001")) == "0.00"
    assert format_amount(Decimal("2.675")) == "2.68"


def test_amounts_are_parsed_from_strings_only():
    assert parse_amount(" 1017.00 ") == Decimal("1017.00")
    for bad in ["1,017.00", "€5", "1e3", "NaN", ""]:
        with pytest.raises(MoneyError):
            parse_amount(bad)


def test_floats_are_refused():
    with pytest.raises(MoneyError, match="float"):
        to_decimal(0.1)
    with pytest.raises(MoneyError):
        Money(0.1)


def test_mixed_currencies_are_refused():
    assert Money.eur("1.10") + Money.eur("2") == Money.eur("3.10")
    with pytest.raises(CurrencyMismatch):
        Money.eur("1") + Money(Decimal(1), "USD")
    assert str(Money.eur("1017")) == "1017.00 EUR"


def test_catalogue_names_families_and_constellations():
    assert [m.display_name for m in MODELS.values()] == ["Stratus-2", "Stratus-3", "Stratus-2 Fast", "Nimbus"]
    assert model_spec("Stratus3").family is ModelFamily.STRATUS
    assert model_spec(ModelName.NIMBUS).family is ModelFamily.NIMBUS
    fast = model_spec("Stratus2Fast")
    assert fast.required == {Constellation.SENTINEL1, Constellation.SENTINEL2}
    assert fast.optional == {Constellation.LANDSAT89}
    assert model_spec("Stratus2").required == set(Constellation) and not model_spec("Stratus2").optional
    with pytest.raises(KeyError, match="known models"):
        model_spec("Cumulus")


def test_attribution_notices_follow_the_constellations():
    assert attribution_notices(["Sentinel1", "Sentinel2"]) == ("Contains modified Copernicus Sentinel data",)
    both = attribution_notices(["Landsat89", "Sentinel2"])
    assert len(both) == 2 and "Copernicus" in both[0] and "U.S. Geological Survey" in both[1]
