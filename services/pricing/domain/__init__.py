"""Pricing domain: price book, image schedules, estimates, the estimate request, AOI resolution and
the checkout saga's and spend ledger's rules (``checkout``).

Pure code: no I/O, no FastAPI/FastStream/asyncpg. See ``estimate`` for the calculation.
"""

from shared.schedule import ChargePeriod, Month, Schedule, charge_periods

from .estimate import (
    AreaSummary,
    Estimate,
    EstimateLine,
    ItemDates,
    LineKind,
    MonthTotal,
    PolygonPart,
    PricedCell,
    PricingItem,
    SpendSource,
    TierUse,
    estimate,
    estimate_payload,
    no_spend,
    price_month,
)
from .payload import pricing_item_from_payload
from .price_book import (
    PRICE_BOOK_2025_01,
    CellLevel,
    PriceBook,
    PricingMode,
    TierBracket,
    current_price_book,
    model_listing,
    price_book,
)

__all__ = [
    "PRICE_BOOK_2025_01",
    "AreaSummary",
    "CellLevel",
    "ChargePeriod",
    "Estimate",
    "EstimateLine",
    "ItemDates",
    "LineKind",
    "Month",
    "MonthTotal",
    "PolygonPart",
    "PricedCell",
    "PriceBook",
    "PricingItem",
    "PricingMode",
    "Schedule",
    "SpendSource",
    "TierBracket",
    "TierUse",
    "charge_periods",
    "current_price_book",
    "estimate",
    "estimate_payload",
    "model_listing",
    "no_spend",
    "price_book",
    "price_month",
    "pricing_item_from_payload",
]
