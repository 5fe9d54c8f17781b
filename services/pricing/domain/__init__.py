"""Pricing domain: price book, image schedules, estimates, the estimate request, AOI resolution,
the checkout saga's and spend ledger's rules (``checkout``) and the monthly spend ledger.

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
from .ledger import ConflictingCharge, OrderCancelledInReview, PlacedSpend, RenewedSpend, SpendLedger
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
    "ConflictingCharge",
    "Estimate",
    "EstimateLine",
    "ItemDates",
    "LineKind",
    "Month",
    "MonthTotal",
    "OrderCancelledInReview",
    "PlacedSpend",
    "PolygonPart",
    "PricedCell",
    "PriceBook",
    "PricingItem",
    "PricingMode",
    "RenewedSpend",
    "Schedule",
    "SpendLedger",
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
