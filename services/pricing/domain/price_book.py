"""The versioned price book (docs/domain.md, Pricing).

Every estimate and charge records the version it used, so a later change of rates never
changes what an existing quote or order says. A new set of rates is a new ``PriceBook`` with a
new version string; old ones stay importable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from shared.catalog import Constellation, ModelFamily, ModelName, model_spec

__all__ = [
    "CellLevel",
    "PRICE_BOOK_2025_01",
    "PriceBook",
    "PricingMode",
    "TierBracket",
    "current_price_book",
    "model_listing",
    "price_book",
]


class PricingMode(StrEnum):
    """What a line is priced as; each has its own factor on the model rate (docs/domain.md, Order modes)."""

    POLYGON = "polygon"
    TILE = "tile"
    MINITILE = "minitile"


class CellLevel(StrEnum):
    """Level of a grid cell."""

    TILE = "tile"
    MINITILE = "minitile"

    @property
    def pricing_mode(self) -> PricingMode:
        return PricingMode(self.value)


@dataclass(frozen=True, slots=True)
class TierBracket:
    """A monthly spend bracket: spend in ``[lower, upper)`` EUR gets ``discount`` (0.65 = 65 %).

    ``number`` counts from 1; ``upper`` is ``None`` for the open top bracket.
    """

    number: int
    lower: Decimal
    upper: Decimal | None
    discount: Decimal

    def contains(self, spend: Decimal) -> bool:
        return spend >= self.lower and (self.upper is None or spend < self.upper)


def _brackets(bounds: Iterable[int], discounts_percent: Iterable[int]) -> tuple[TierBracket, ...]:
    bounds = list(bounds)
    uppers: list[Decimal | None] = [Decimal(b) for b in bounds[1:]] + [None]
    return tuple(
        TierBracket(number=i + 1, lower=Decimal(lower), upper=upper, discount=Decimal(pct) / 100)
        for i, (lower, upper, pct) in enumerate(zip(bounds, uppers, discounts_percent, strict=True))
    )


@dataclass(frozen=True, slots=True)
class PriceBook:
    """All figures needed to price an item. Amounts are ``Decimal`` EUR.

    - ``base_rates``: per km² per image date, per model;
    - ``addon_rates``: per km² per image date, per constellation, charged only when the
      constellation is optional for the model and selected;
    - ``mode_factors``: multiply the rate (polygon 1.00, tile 0.20, minitile 0.50);
    - ``tiers``: per model family, ascending brackets of monthly spend with their discount;
    - ``storage_rate``: per km² per image per storage month beyond the included one;
    - ``download_block_price`` per ``download_block_units`` units, one unit covering up to
      ``download_unit_km2`` km² of one image; ``included_requests`` downloads per image are free;
    - ``minimum_billable_km2``: a smaller polygon part is billed as this.
    """

    version: str
    base_rates: Mapping[ModelName, Decimal]
    addon_rates: Mapping[Constellation, Decimal]
    mode_factors: Mapping[PricingMode, Decimal]
    tiers: Mapping[ModelFamily, tuple[TierBracket, ...]]
    storage_rate: Decimal
    download_block_price: Decimal
    download_block_units: int
    download_unit_km2: Decimal
    included_requests: int
    minimum_billable_km2: Decimal

    def brackets(self, family: ModelFamily) -> tuple[TierBracket, ...]:
        return self.tiers[family]

    def bracket_at(self, family: ModelFamily, spend: Decimal) -> TierBracket:
        """The bracket a month's spend so far falls in (spend exactly at a bound is in the upper)."""
        for bracket in self.tiers[family]:
            if bracket.contains(spend):
                return bracket
        raise ValueError(f"spend {spend} is below the first bracket (negative spend?)")

    def billable_addons(
        self, model: ModelName, constellations: Iterable[Constellation]
    ) -> tuple[Constellation, ...]:
        """Selected constellations that are optional for the model (the only ones billed)."""
        optional = model_spec(model).optional
        chosen = set(constellations)
        return tuple(c for c in Constellation if c in optional and c in chosen)

    def list_rate(self, model: ModelName, constellations: Iterable[Constellation]) -> Decimal:
        """Base rate plus billable add-ons, per km² per image, before discount and mode factor."""
        return self.base_rates[model] + sum(
            (self.addon_rates[c] for c in self.billable_addons(model, constellations)), Decimal(0)
        )

    def rate(
        self,
        model: ModelName,
        constellations: Iterable[Constellation],
        mode: PricingMode,
        bracket: TierBracket,
    ) -> Decimal:
        """rate per km² = (base + selected optional add-ons) × (1 − tier discount) × mode factor."""
        return self.list_rate(model, constellations) * (1 - bracket.discount) * self.mode_factors[mode]

    @property
    def download_unit_price(self) -> Decimal:
        """EUR per download unit (pro rata of the block price)."""
        return self.download_block_price / self.download_block_units


PRICE_BOOK_2025_01 = PriceBook(
    version="2025-01",
    base_rates=MappingProxyType(
        {
            ModelName.STRATUS2: Decimal("0.20"),
            ModelName.STRATUS3: Decimal("0.20"),
            ModelName.STRATUS2_FAST: Decimal("0.18"),
            ModelName.NIMBUS: Decimal("0.10"),
        }
    ),
    addon_rates=MappingProxyType(
        {
            Constellation.SENTINEL1: Decimal("0.04"),
            Constellation.SENTINEL2: Decimal("0.04"),
            Constellation.LANDSAT89: Decimal("0.02"),
        }
    ),
    mode_factors=MappingProxyType(
        {
            PricingMode.POLYGON: Decimal("1.00"),
            PricingMode.TILE: Decimal("0.20"),
            PricingMode.MINITILE: Decimal("0.50"),
        }
    ),
    tiers=MappingProxyType(
        {
            ModelFamily.STRATUS: _brackets([0, 1_000, 3_000, 12_000, 50_000], [0, 65, 80, 85, 90]),
            ModelFamily.NIMBUS: _brackets([0, 1_000, 3_000, 12_000, 50_000], [0, 25, 50, 70, 80]),
        }
    ),
    storage_rate=Decimal("0.00001"),
    download_block_price=Decimal("5"),
    download_block_units=2_500,
    download_unit_km2=Decimal("10"),
    included_requests=1,
    minimum_billable_km2=Decimal("0.5"),
)

_BOOKS = MappingProxyType({PRICE_BOOK_2025_01.version: PRICE_BOOK_2025_01})


def current_price_book() -> PriceBook:
    """The price book new estimates use."""
    return PRICE_BOOK_2025_01


def price_book(version: str) -> PriceBook:
    """A price book by version (to re-price or explain an old quote); ``KeyError`` if unknown."""
    try:
        return _BOOKS[version]
    except KeyError:
        raise KeyError(f"unknown price-book version {version!r}; known: {', '.join(_BOOKS)}") from None


def model_listing(book: PriceBook | None = None) -> list[dict[str, object]]:
    """What ``GET /v1/models`` shows: each model with its names, family, base rate and its
    required and optional constellations (optional ones with their add-on rate). Rates are
    strings so they survive JSON exactly."""
    from shared.catalog import CONSTELLATION_DISPLAY_NAMES, MODELS

    book = book or current_price_book()
    listing: list[dict[str, object]] = []
    for spec in MODELS.values():
        listing.append(
            {
                "model": spec.api_name.value,
                "display_name": spec.display_name,
                "family": spec.family.value,
                "base_rate_per_km2": str(book.base_rates[spec.api_name]),
                "required_constellations": [c.value for c in Constellation if c in spec.required],
                "optional_constellations": [
                    {
                        "constellation": c.value,
                        "display_name": CONSTELLATION_DISPLAY_NAMES[c],
                        "add_on_rate_per_km2": str(book.addon_rates[c]),
                    }
                    for c in Constellation
                    if c in spec.optional
                ],
                "currency": "EUR",
                "price_book_version": book.version,
            }
        )
    return listing
