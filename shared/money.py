"""EUR money as ``Decimal``: rounding, formatting, parsing, and a small value type.

Why ``Decimal`` and never ``float``: prices are shown to the customer, charged from prepaid
credits and compared between estimate and checkout; binary floats cannot represent cents
exactly (0.1 + 0.2 != 0.3), so floats are refused at the door rather than silently converted.

Rounding is half-even ("banker's rounding") to cents, applied per line; totals are sums of
rounded lines (docs/domain.md, Pricing; docs/decisions/0002-per-line-half-even-rounding.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated

from pydantic import BeforeValidator

__all__ = [
    "CENT",
    "CURRENCY",
    "Amount",
    "CurrencyMismatch",
    "AMOUNT_RULE",
    "MAX_AMOUNT",
    "Money",
    "MoneyError",
    "checked_amount",
    "format_amount",
    "parse_amount",
    "round_cents",
    "to_decimal",
]

CURRENCY = "EUR"
CENT = Decimal("0.01")

# An amount as people and the API write it: optional sign, digits, optional fraction.
_AMOUNT_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


class MoneyError(ValueError):
    """An amount that cannot be used as money (a float, a malformed string, NaN...)."""


class CurrencyMismatch(MoneyError):
    """Two amounts in different currencies were combined."""


def to_decimal(value: Decimal | int | str | Fraction) -> Decimal:
    """Return ``value`` as a finite ``Decimal``.

    Accepts ``Decimal``, ``int`` and text such as ``"12.50"``. Refuses ``float`` (and ``bool``)
    because a float has already lost the exact value. A ``Fraction`` is accepted only when it
    has a finite decimal expansion (its denominator has no prime factors other than 2 and 5).
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(
            f"refusing {type(value).__name__} {value!r} as money: pass a Decimal, an int or a "
            "string such as '12.50' so no precision is lost"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        return parse_amount(value)
    elif isinstance(value, Fraction):
        result = _fraction_to_decimal(value)
    else:
        raise MoneyError(f"refusing {type(value).__name__} as money")
    if not result.is_finite():
        raise MoneyError(f"money must be a finite number, got {result}")
    return result


def _fraction_to_decimal(value: Fraction) -> Decimal:
    denominator = value.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        raise MoneyError(f"{value} has no finite decimal expansion; round it first")
    digits = max(twos, fives)
    scaled = value * 10**digits
    return Decimal(scaled.numerator).scaleb(-digits)


def round_cents(amount: Decimal | int | str | Fraction) -> Decimal:
    """Round an amount half-even to whole cents (``Decimal('0.125')`` -> ``Decimal('0.12')``).

    A ``Fraction`` is rounded exactly (no intermediate decimal approximation), which the price
    calculator relies on for amounts such as ``1000 / 0.35``.
    """
    if isinstance(amount, Fraction):
        cents = round(amount * 100)  # Python's round() on Fraction is exact and half-even
        return Decimal(cents).scaleb(-2).quantize(CENT)
    return to_decimal(amount).quantize(CENT, rounding=ROUND_HALF_EVEN)


def format_amount(amount: Decimal | int | str) -> str:
    """Format as the API shows amounts: a string with exactly two decimals, e.g. ``"1017.00"``.

    The amount is rounded half-even to cents first; no thousands separators, ``-`` for negative.
    """
    rounded = round_cents(amount)
    if rounded == 0:
        rounded = abs(rounded)  # never show "-0.00"
    return f"{rounded:.2f}"


def parse_amount(text: str) -> Decimal:
    """Parse an amount written as text (``"1017.00"``, ``"12.5"``, ``"-3"``) into a ``Decimal``.

    Leading/trailing spaces are ignored. Exponents, thousands separators, currency symbols,
    ``NaN`` and ``Infinity`` are refused with a message saying what was expected. No rounding
    happens here; call ``round_cents`` where cents are required.
    """
    if not isinstance(text, str):
        raise MoneyError(f"expected the amount as a string, got {type(text).__name__}")
    stripped = text.strip()
    if not _AMOUNT_TEXT.match(stripped):
        raise MoneyError(
            f"{text!r} is not an amount: write digits with an optional '.' and decimals, "
            "e.g. '1017.00' (no currency sign, separators or exponent)"
        )
    try:
        return Decimal(stripped)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise MoneyError(f"{text!r} is not an amount") from exc


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency. Adding or comparing different currencies is refused."""

    amount: Decimal
    currency: str = CURRENCY

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if not (isinstance(self.currency, str) and len(self.currency) == 3 and self.currency.isupper()):
            raise MoneyError(f"currency must be an ISO 4217 code such as 'EUR', got {self.currency!r}")

    @classmethod
    def eur(cls, amount: Decimal | int | str) -> Money:
        """EUR amount from a ``Decimal``, ``int`` or string."""
        return cls(to_decimal(amount), CURRENCY)

    @classmethod
    def zero(cls, currency: str = CURRENCY) -> Money:
        return cls(Decimal(0), currency)

    def _same_currency(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise MoneyError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same_currency(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same_currency(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same_currency(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same_currency(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same_currency(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same_currency(other).amount

    def rounded(self) -> Money:
        """The same amount rounded half-even to cents."""
        return Money(round_cents(self.amount), self.currency)

    def __str__(self) -> str:
        return f"{format_amount(self.amount)} {self.currency}"


# ------------------------------------------------------------------------------ the range of an amount

# Every amount the API or a message carries lies strictly between -MAX_AMOUNT and MAX_AMOUNT and
# has at most two decimals: what numeric(14, 2) columns hold (12 digits before the point).
MAX_AMOUNT = Decimal(10) ** 12
AMOUNT_DECIMALS = 2


def amount_issue(amount: Decimal) -> str | None:
    """Why ``amount`` is outside the range of money, or None when it is inside."""
    if not amount.is_finite():
        return f"{amount} is not an amount"
    if abs(amount) >= MAX_AMOUNT:
        return f"{amount} is out of range: amounts must be below {MAX_AMOUNT:,} EUR"
    exponent = amount.as_tuple().exponent  # an int: the amount is finite
    if isinstance(exponent, int) and exponent < -AMOUNT_DECIMALS and amount != amount.quantize(CENT):
        return f"{amount} has more than {AMOUNT_DECIMALS} decimals; amounts are in whole cents"
    return None


def checked_amount(value: object) -> Decimal:
    """An amount as the API accepts it (a string such as ``"24.00"``, or a JSON number, read as
    written), within the range of money; ``MoneyError`` (a ``ValueError``) says what is wrong."""
    amount = value if isinstance(value, Decimal) else parse_amount(value if isinstance(value, str) else str(value))
    issue = amount_issue(amount)
    if issue:
        raise MoneyError(issue)
    return amount


def _amount_field(value: object) -> Decimal:
    from pydantic_core import PydanticCustomError

    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise PydanticCustomError("invalid_amount", "expected an amount such as \"24.00\"")
    try:
        return checked_amount(value)
    except MoneyError as exc:
        raise PydanticCustomError("invalid_amount", "{issue}", {"issue": str(exc)}) from None


# A pydantic field type: the one range of money, at every route and in every message contract.
# The JSON Schema stays Decimal's (number or string): published message contracts keep their schemas.
Amount = Annotated[Decimal, BeforeValidator(_amount_field)]
AMOUNT_RULE = f"EUR as a string such as \"24.00\": at most {AMOUNT_DECIMALS} decimals, below {MAX_AMOUNT:,} in size"
