"""The estimate calculation (docs/domain.md, Pricing): itemised lines a person can follow.

Input is neutral and self-contained: a ``PricingItem`` carries the model, the constellations, the
schedule, the extras and its billable units, either polygon ``parts`` (label, km²) or grid
``cells`` (GUID, level, km², dates already owned). Nothing here talks to the AOI or tiling
services; the caller resolves those first.

How a month is priced:

- rate per km² = (base + selected optional add-ons) × (1 − tier discount) × mode factor;
- quantity = billable km² × image dates (km²·images);
- tiers are progressive inside the month and per model family, starting from the account's spend
  so far in that month (or a simulated spend): items, then their parts/cell groups, consume the
  brackets in the order given; a line that reaches a bracket's upper bound is split, the part
  that fits being the remaining EUR of the bracket divided by the current rate;
- storage and download extras are their own lines, without tier discount or mode factor, and do
  not count towards the tiers;
- all arithmetic is exact (``Fraction``); only line amounts are rounded, half-even to cents;
  totals are sums of rounded lines, so lines always add up.

**Decisions** (ours, where the provider's documentation is silent; docs/domain.md lists them):

- Rounding is strictly per line (docs/decisions/0002-per-line-half-even-rounding.md): each line's amount is its own
  exact quantity × rate rounded half-even to cents; a line that straddles a bracket bound is split
  into one line per bracket, each rounded on its own. Totals are sums of rounded lines.
- The running spend that moves through the brackets inside an estimate advances by each line's
  *rounded* amount (what is charged, and what the spend ledger will record); the line that fills
  a bracket costs exactly the EUR left in it and brings the spend to exactly the bound. With a
  starting spend in whole cents (always, from the ledger) every line's spend stays in whole cents.
- Consequence of per-line rounding: a line is within half a cent of its exact amount, but the
  monotonicity guarantees (more area or dates never cheaper; more prior spend never dearer) hold
  only up to about a cent per line (a bracket split rounds twice). Lines still add up exactly.
- The minimum billable area (0.5 km²) applies to polygon parts only (each Polygon, or each
  MultiPolygon as one unit, as given by the caller); grid cells are billed at their own (possibly
  clipped) area.
- Grid cells are grouped into one line per (level, set of image dates left after deduplication),
  in the order of first appearance; a group whose dates are all owned produces no line.
- Storage: ``storage_months`` = 1 is the included period; each further month costs the storage
  rate per billable km² per image. One storage line per item per month.
- Downloads: units per image = ceil(km² / 10) per polygon part or per grid cell (each cell is its
  own image); extra requests = ``api_requests`` − 1 per image; priced pro rata at
  €5 / 2,500 units = €0.002 per unit. One downloads line per item per month.
- ``simulated_spend`` replaces the starting spend of every month in the estimate, for every family.
- Lines with nothing to charge (no image dates) are left out; the item's dates still show (empty).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from shared.catalog import Constellation, ModelFamily, ModelName, model_spec
from shared.money import CURRENCY, round_cents, to_decimal
from shared.schedule import ChargePeriod, Month, Schedule, charge_periods

from .price_book import CellLevel, PriceBook, PricingMode, TierBracket, current_price_book

__all__ = [
    "AreaSummary",
    "Estimate",
    "EstimateLine",
    "ItemDates",
    "LineKind",
    "MonthTotal",
    "PolygonPart",
    "PricedCell",
    "PricingItem",
    "SpendSource",
    "TierUse",
    "estimate",
    "estimate_payload",
    "no_spend",
    "price_month",
]

# Displayed quantities (km²·images) are rounded to this; amounts never come from them.
_QUANTITY_PLACES = Decimal("0.000001")


class LineKind(StrEnum):
    IMAGERY = "imagery"
    STORAGE = "storage"
    DOWNLOADS = "downloads"


# ------------------------------------------------------------------------------ input


@dataclass(frozen=True, slots=True)
class PolygonPart:
    """One polygon-mode part: a Polygon, or a MultiPolygon taken as one unit, with its area."""

    label: str
    area_km2: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "area_km2", _positive_area(self.area_km2, self.label))


@dataclass(frozen=True, slots=True)
class PricedCell:
    """One tile or minitile (``key`` = its GUID, or a label for a pre-grouped set of cells).

    ``excluded_dates`` are the image dates already owned (deduplication); they are not priced.
    """

    key: str
    level: CellLevel
    area_km2: Decimal
    excluded_dates: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", CellLevel(self.level))
        object.__setattr__(self, "area_km2", _positive_area(self.area_km2, self.key))
        object.__setattr__(self, "excluded_dates", frozenset(self.excluded_dates))


@dataclass(frozen=True, slots=True)
class PricingItem:
    """Everything needed to price one order item. Give ``parts`` (polygon) or ``cells`` (grid)."""

    label: str
    model: ModelName
    constellations: frozenset[Constellation]
    schedule: Schedule
    parts: tuple[PolygonPart, ...] = ()
    cells: tuple[PricedCell, ...] = ()
    storage_months: int = 1
    api_requests: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", ModelName(self.model))
        object.__setattr__(self, "constellations", frozenset(Constellation(c) for c in self.constellations))
        object.__setattr__(self, "parts", tuple(self.parts))
        object.__setattr__(self, "cells", tuple(self.cells))
        if bool(self.parts) == bool(self.cells):
            raise ValueError(f"item {self.label!r}: give polygon parts or grid cells (exactly one of them)")
        if self.storage_months < 1 or self.api_requests < 1:
            raise ValueError(f"item {self.label!r}: storage months and API requests must be at least 1")

    @property
    def family(self) -> ModelFamily:
        return model_spec(self.model).family

    @property
    def is_grid(self) -> bool:
        return bool(self.cells)


def _positive_area(value: Decimal | int | str, label: str) -> Decimal:
    area = to_decimal(value)  # refuses floats: areas arrive as Decimal km²
    if area <= 0:
        raise ValueError(f"{label!r}: area must be positive, got {area} km²")
    return area


# A source of the account's spend so far: (month, family) -> EUR.
SpendSource = Callable[[Month, ModelFamily], Decimal]


def no_spend(month: Month, family: ModelFamily) -> Decimal:
    """A spend source for an account that has bought nothing."""
    return Decimal(0)


# ------------------------------------------------------------------------------ output


@dataclass(frozen=True, slots=True)
class EstimateLine:
    """One priced line: an AOI part or grid-cell group in one month and one tier bracket, or
    an extra (storage / downloads) of one item in one month.

    ``quantity`` is km²·images (imagery), km²·images·months (storage) or download units;
    ``amount`` is the line's exact quantity × rate rounded half-even to cents (per line, see the
    module docstring), never computed from the displayed (6-decimal) quantity.
    """

    item: str
    month: Month
    at_checkout: bool
    kind: LineKind
    label: str
    family: ModelFamily
    mode: PricingMode | None
    tier: int | None
    discount: Decimal | None
    area_km2: Decimal
    image_dates: int
    quantity: Decimal
    unit: str
    rate: Decimal
    amount: Decimal
    cells: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AreaSummary:
    """Area before and after the minimum billable area, per polygon part or per grid level."""

    item: str
    label: str
    mode: PricingMode
    area_km2: Decimal
    billable_km2: Decimal
    cell_count: int = 0


@dataclass(frozen=True, slots=True)
class ItemDates:
    """The image dates of one item charged in one month."""

    item: str
    month: Month
    at_checkout: bool
    dates: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class TierUse:
    """A tier bracket used in one month for one family, with the spend moving through it."""

    month: Month
    family: ModelFamily
    tier: int
    discount: Decimal
    spend_before: Decimal
    spend_after: Decimal


@dataclass(frozen=True, slots=True)
class MonthTotal:
    """One charge month: starting spend per family, spend added to the tiers, and the total."""

    month: Month
    at_checkout: bool
    starting_spend: Mapping[ModelFamily, Decimal]
    tier_spend: Mapping[ModelFamily, Decimal]
    total: Decimal


@dataclass(frozen=True, slots=True)
class Estimate:
    """The itemised price of one or more items.

    ``total`` covers every month shown; ``due_at_checkout`` only the months charged at checkout
    (for a recurring item, next month's lines are a preview of its first renewal).
    """

    price_book_version: str
    lines: tuple[EstimateLine, ...]
    image_dates: tuple[ItemDates, ...]
    areas: tuple[AreaSummary, ...]
    tiers: tuple[TierUse, ...]
    months: tuple[MonthTotal, ...]
    total: Decimal
    due_at_checkout: Decimal
    currency: str = CURRENCY
    notes: tuple[str, ...] = field(default=())

    def tier_spend(self, month: Month, family: ModelFamily) -> Decimal:
        """What this estimate adds to the month's tier spend for a family (imagery lines only)."""
        return sum(
            (
                line.amount
                for line in self.lines
                if line.month == month and line.family == family and line.kind is LineKind.IMAGERY
            ),
            Decimal(0),
        )


# ------------------------------------------------------------------------------ calculation


@dataclass(frozen=True, slots=True)
class _Unit:
    """A priced unit of an item in one month: a polygon part or a grid-cell group."""

    label: str
    mode: PricingMode
    billable_km2: Decimal
    dates: int
    download_units_per_image: int  # sum over the images the unit consists of (cells)
    cells: tuple[str, ...]


def _units(item: PricingItem, dates: tuple[date, ...], book: PriceBook) -> list[_Unit]:
    unit_km2 = book.download_unit_km2
    if item.parts:
        units = []
        for part in item.parts:
            billable = max(part.area_km2, book.minimum_billable_km2)
            units.append(
                _Unit(part.label, PricingMode.POLYGON, billable, len(dates), math.ceil(billable / unit_km2), ())
            )
        return units
    date_set = frozenset(dates)
    facts = _cell_facts(item.cells, unit_km2)
    if facts is not None:  # no owned dates: one group per level (same lines as the loop below)
        return [
            _Unit(f"{f.count} {level.value}{'s' if f.count != 1 else ''}", level.pricing_mode, f.area_km2,
                  len(date_set), f.download_units, f.keys)
            for level, f in facts.items()
        ]
    groups: dict[tuple[CellLevel, frozenset[date]], list[PricedCell]] = {}
    for cell in item.cells:
        remaining = date_set - cell.excluded_dates if cell.excluded_dates else date_set
        groups.setdefault((cell.level, remaining), []).append(cell)
    numbered = _group_numbers(groups)
    units = []
    for (level, remaining), cells in groups.items():
        plural = "s" if len(cells) != 1 else ""
        label = f"{len(cells)} {level.value}{plural}"
        if numbered[level] > 1:
            label += f", {len(remaining)} of {len(dates)} dates"
        units.append(
            _Unit(
                label,
                level.pricing_mode,
                sum((c.area_km2 for c in cells), Decimal(0)),
                len(remaining),
                sum(math.ceil(c.area_km2 / unit_km2) for c in cells),
                tuple(c.key for c in cells),
            )
        )
    return units


@dataclass(frozen=True, slots=True)
class _LevelFacts:
    """The cells of one level in an item, in order: their keys, summed area and download units."""

    keys: tuple[str, ...]
    area_km2: Decimal
    download_units: int
    count: int


_FACTS_CACHED = 64
_facts: OrderedDict[tuple[int, Decimal], tuple[tuple[PricedCell, ...], dict[CellLevel, _LevelFacts]]] = OrderedDict()
_facts_lock = threading.Lock()  # estimates of big selections run on worker threads


def _cell_facts(cells: tuple[PricedCell, ...], unit_km2: Decimal) -> dict[CellLevel, _LevelFacts] | None:
    """Per level (in order of first appearance): the keys, area and download units of a grid item's
    cells, or None when some cell has owned dates (then cells are grouped by their dates).

    Cached by the identity of the cells tuple (a small LRU holding the tuple, so its id stays
    unique while cached): the estimate route reuses one tuple per GUID selection
    (``resolve.grid_cells``), and every month of an estimate prices the same cells. The sums are
    taken in the same order as the uncached grouping, so amounts are identical."""
    key = (id(cells), unit_km2)
    with _facts_lock:
        entry = _facts.get(key)
        if entry is not None and entry[0] is cells:
            _facts.move_to_end(key)
            return entry[1]
    by_level: dict[CellLevel, list[PricedCell]] = {}
    for cell in cells:
        if cell.excluded_dates:
            return None
        by_level.setdefault(cell.level, []).append(cell)
    facts = {
        level: _LevelFacts(
            tuple(c.key for c in group),
            sum((c.area_km2 for c in group), Decimal(0)),
            sum(math.ceil(c.area_km2 / unit_km2) for c in group),
            len(group),
        )
        for level, group in by_level.items()
    }
    with _facts_lock:
        _facts[key] = (cells, facts)
        if len(_facts) > _FACTS_CACHED:
            _facts.popitem(last=False)
    return facts


def _group_numbers(groups: Mapping[tuple[CellLevel, frozenset[date]], object]) -> dict[CellLevel, int]:
    counts = {level: 0 for level in CellLevel}
    for level, _ in groups:
        counts[level] += 1
    return counts


def _areas(item: PricingItem, book: PriceBook) -> list[AreaSummary]:
    if item.parts:
        return [
            AreaSummary(
                item.label, part.label, PricingMode.POLYGON, part.area_km2,
                max(part.area_km2, book.minimum_billable_km2)
            )
            for part in item.parts
        ]
    facts = _cell_facts(item.cells, book.download_unit_km2)
    if facts is not None:
        return [
            AreaSummary(item.label, f"{level.value}s", level.pricing_mode, facts[level].area_km2,
                        facts[level].area_km2, facts[level].count)
            for level in CellLevel
            if level in facts
        ]
    summaries = []
    for level in CellLevel:
        cells = [c for c in item.cells if c.level is level]
        if cells:
            area = sum((c.area_km2 for c in cells), Decimal(0))
            summaries.append(AreaSummary(item.label, f"{level.value}s", level.pricing_mode, area, area, len(cells)))
    return summaries


def _display(value: Fraction) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(_QUANTITY_PLACES, rounding=ROUND_HALF_EVEN).normalize() + Decimal("0")


def _price_month(
    entries: Sequence[tuple[PricingItem, ChargePeriod]],
    month: Month,
    at_checkout: bool,
    starting_spend: Mapping[ModelFamily, Decimal],
    book: PriceBook,
) -> tuple[list[EstimateLine], list[TierUse], MonthTotal]:
    start: dict[ModelFamily, Fraction] = {f: Fraction(to_decimal(starting_spend[f])) for f in ModelFamily}
    spend = dict(start)
    lines: list[EstimateLine] = []
    # (family, tier) -> [spend_before, spend_after, discount], in order of first use
    used: dict[tuple[ModelFamily, int], list[Any]] = {}

    for item, period in entries:
        family = item.family
        brackets = book.brackets(family)
        list_rate = book.list_rate(item.model, item.constellations)
        units = _units(item, period.dates, book)
        for unit in units:
            remaining = Fraction(unit.billable_km2) * unit.dates
            factor = book.mode_factors[unit.mode]
            while remaining > 0:
                bracket = _bracket_at(brackets, spend[family])
                rate = list_rate * (1 - bracket.discount) * factor
                cost = remaining * Fraction(rate)
                upper = Fraction(bracket.upper) if bracket.upper is not None else None
                fills = upper is not None and spend[family] + cost > upper
                if fills and upper is not None:
                    cost = upper - spend[family]  # exactly the EUR left in the bracket
                    quantity = cost / Fraction(rate)
                else:
                    quantity = remaining
                amount = round_cents(cost)  # per line, on its own
                key = (family, bracket.number)
                if key not in used:
                    used[key] = [spend[family], spend[family], bracket.discount]
                if fills and upper is not None:
                    spend[family] = upper
                else:
                    # Advance by what is charged; with whole-cent spends this never passes the bound
                    # (the bound is whole cents and at least the exact cost away), min() guards odd
                    # simulated spends such as 999.999.
                    advanced = spend[family] + Fraction(amount)
                    spend[family] = min(advanced, upper) if upper is not None else advanced
                used[key][1] = spend[family]
                remaining -= quantity
                lines.append(
                    EstimateLine(
                        item=item.label,
                        month=month,
                        at_checkout=at_checkout,
                        kind=LineKind.IMAGERY,
                        label=unit.label,
                        family=family,
                        mode=unit.mode,
                        tier=bracket.number,
                        discount=bracket.discount,
                        area_km2=unit.billable_km2,
                        image_dates=unit.dates,
                        quantity=_display(quantity),
                        unit="km2_image",
                        rate=rate.normalize() + Decimal(0),
                        amount=amount,
                        cells=unit.cells,
                    )
                )
        lines.extend(_extras(item, units, month, at_checkout, book))

    tiers = [
        TierUse(month, family, tier, discount, round_cents(before), round_cents(after))
        for (family, tier), (before, after, discount) in used.items()
    ]
    tier_spend = {
        f: sum((ln.amount for ln in lines if ln.family == f and ln.kind is LineKind.IMAGERY), Decimal(0))
        for f in ModelFamily
    }
    total = MonthTotal(
        month,
        at_checkout,
        MappingProxyType({f: to_decimal(starting_spend[f]) for f in ModelFamily}),
        MappingProxyType(tier_spend),
        sum((ln.amount for ln in lines), Decimal(0)),
    )
    return lines, tiers, total


def _bracket_at(brackets: tuple[TierBracket, ...], spend: Fraction) -> TierBracket:
    for bracket in brackets:
        if spend >= bracket.lower and (bracket.upper is None or spend < bracket.upper):
            return bracket
    raise ValueError(f"spend {float(spend):.2f} EUR lies below the first tier bracket")


def _extras(
    item: PricingItem, units: list[_Unit], month: Month, at_checkout: bool, book: PriceBook
) -> list[EstimateLine]:
    """Storage and download extras: neither tier-discounted nor mode-factored (docs/domain.md, Pricing)."""
    km2_images = sum((u.billable_km2 * u.dates for u in units), Decimal(0))
    total_km2 = sum((u.billable_km2 for u in units), Decimal(0))
    dates = max((u.dates for u in units), default=0)

    def line(kind: LineKind, label: str, quantity: Decimal, unit: str, rate: Decimal) -> EstimateLine:
        return EstimateLine(
            item=item.label, month=month, at_checkout=at_checkout, kind=kind, label=label, family=item.family,
            mode=None, tier=None, discount=None, area_km2=total_km2, image_dates=dates, quantity=quantity,
            unit=unit, rate=rate, amount=round_cents(quantity * rate),
        )

    lines = []
    extra_months = item.storage_months - 1
    if extra_months > 0 and km2_images > 0:
        lines.append(line(LineKind.STORAGE, f"storage, {extra_months} extra month{'s' if extra_months != 1 else ''}",
                          km2_images * extra_months, "km2_image_month", book.storage_rate))
    extra_requests = item.api_requests - book.included_requests
    units_per_request = sum(u.download_units_per_image * u.dates for u in units)
    if extra_requests > 0 and units_per_request > 0:
        lines.append(line(LineKind.DOWNLOADS,
                          f"downloads, {extra_requests} extra request{'s' if extra_requests != 1 else ''} per image",
                          Decimal(units_per_request * extra_requests), "download_unit", book.download_unit_price))
    return lines


def _assemble(
    items: Sequence[PricingItem],
    periods: Sequence[tuple[PricingItem, ChargePeriod]],
    spend_at: Callable[[Month, ModelFamily], Decimal],
    book: PriceBook,
) -> Estimate:
    by_month: dict[tuple[Month, bool], list[tuple[PricingItem, ChargePeriod]]] = {}
    for item, period in periods:
        by_month.setdefault((period.month, period.at_checkout), []).append((item, period))
    lines: list[EstimateLine] = []
    tiers: list[TierUse] = []
    months: list[MonthTotal] = []
    for month, at_checkout in sorted(by_month, key=lambda k: (k[0], not k[1])):
        starting = {f: to_decimal(spend_at(month, f)) for f in ModelFamily}
        month_lines, month_tiers, total = _price_month(by_month[(month, at_checkout)], month, at_checkout, starting,
                                                       book)
        lines += month_lines
        tiers += month_tiers
        months.append(total)
    return Estimate(
        price_book_version=book.version,
        lines=tuple(lines),
        image_dates=tuple(ItemDates(item.label, p.month, p.at_checkout, p.dates) for item, p in periods),
        areas=tuple(a for item in items for a in _areas(item, book)),
        tiers=tuple(tiers),
        months=tuple(months),
        total=sum((m.total for m in months), Decimal(0)),
        due_at_checkout=sum((m.total for m in months if m.at_checkout), Decimal(0)),
    )


def _spend_function(spend: SpendSource | None, simulated_spend: Decimal | int | str | None) -> SpendSource:
    if simulated_spend is not None:
        simulated = to_decimal(simulated_spend)
        if simulated < 0:
            raise ValueError(f"simulated spend must not be negative, got {simulated}")
        return lambda month, family: simulated
    return spend or no_spend


def estimate(
    items: Iterable[PricingItem],
    *,
    checkout_day: date,
    spend: SpendSource | None = None,
    simulated_spend: Decimal | int | str | None = None,
    book: PriceBook | None = None,
    include_next_month: bool = True,
) -> Estimate:
    """Price items (one, or a cart's in order) as if checked out on ``checkout_day`` (UTC).

    ``spend(month, family)`` gives the account's spend so far (default: none); a
    ``simulated_spend`` replaces it for every month and family. Fixed windows are charged in the
    checkout month; recurring items in the checkout month plus, when ``include_next_month``, a
    preview of next month (``at_checkout`` False, counted in ``total`` but not ``due_at_checkout``).
    """
    items = list(items)
    _check_unique_labels(items)
    book = book or current_price_book()
    periods = [
        (item, period)
        for item in items
        for period in charge_periods(item.schedule, checkout_day, include_next_month=include_next_month)
    ]
    return _assemble(items, periods, _spend_function(spend, simulated_spend), book)


def price_month(
    items: Iterable[PricingItem],
    month: Month,
    *,
    spend: SpendSource | None = None,
    simulated_spend: Decimal | int | str | None = None,
    book: PriceBook | None = None,
) -> Estimate:
    """Price the image dates of one given month (a recurring item's renewal) at that month's spend.

    The lines are marked ``at_checkout`` False; ``total`` is what the renewal charges.
    """
    items = list(items)
    _check_unique_labels(items)
    book = book or current_price_book()
    periods = [(item, ChargePeriod(month, item.schedule.dates_in_month(month), at_checkout=False)) for item in items]
    return _assemble(items, periods, _spend_function(spend, simulated_spend), book)


def _check_unique_labels(items: Sequence[PricingItem]) -> None:
    labels = [item.label for item in items]
    if len(set(labels)) != len(labels):
        raise ValueError("item labels must be unique so each line names its item")


def estimate_payload(result: Estimate) -> dict[str, object]:
    """The estimate as JSON-ready data in the shared vocabulary: amounts as two-decimal strings
    next to ``currency``, rates and quantities as exact strings, dates ISO. The HTTP layer adds
    ``quote_id`` and ``expires_at``."""
    from shared.money import format_amount

    def line(ln: EstimateLine) -> dict[str, object]:
        return {
            "item": ln.item,
            "month": str(ln.month),
            "charged_at_checkout": ln.at_checkout,
            "kind": ln.kind.value,
            "label": ln.label,
            "family": ln.family.value,
            "mode": ln.mode.value if ln.mode else None,
            "tier": ln.tier,
            "discount": str(ln.discount) if ln.discount is not None else None,
            "area_km2": str(ln.area_km2),
            "image_dates": ln.image_dates,
            "quantity": str(ln.quantity),
            "unit": ln.unit,
            "rate": str(ln.rate),
            "amount": format_amount(ln.amount),
            "cells": list(ln.cells),
        }

    return {
        "total": format_amount(result.total),
        "due_at_checkout": format_amount(result.due_at_checkout),
        "currency": result.currency,
        "price_book_version": result.price_book_version,
        "image_dates": [
            {"item": d.item, "month": str(d.month), "charged_at_checkout": d.at_checkout,
             "dates": [x.isoformat() for x in d.dates]}
            for d in result.image_dates
        ],
        "lines": [line(ln) for ln in result.lines],
        "areas": [
            {"item": a.item, "label": a.label, "mode": a.mode.value, "area_km2": str(a.area_km2),
             "billable_km2": str(a.billable_km2), "cell_count": a.cell_count}
            for a in result.areas
        ],
        "tiers": [
            {"month": str(t.month), "family": t.family.value, "tier": t.tier, "discount": str(t.discount),
             "spend_before": format_amount(t.spend_before), "spend_after": format_amount(t.spend_after)}
            for t in result.tiers
        ],
        "months": [
            {"month": str(m.month), "charged_at_checkout": m.at_checkout, "total": format_amount(m.total),
             "starting_spend": {f.value: format_amount(v) for f, v in m.starting_spend.items()},
             "tier_spend": {f.value: format_amount(v) for f, v in m.tier_spend.items()}}
            for m in result.months
        ],
    }
