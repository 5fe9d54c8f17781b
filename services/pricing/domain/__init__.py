"""Pricing domain: price book, image schedules, estimates and the monthly spend ledger.

Pure code: no I/O, no FastAPI/FastStream/asyncpg. See ``estimate`` for the calculation.
"""

from .estimate import (
    AreaSummary,
    Estimate,
    EstimateLine,
    GridCell,
    ItemDates,
    LineKind,
    MonthTotal,
    PolygonPart,
    PricingItem,
    SpendSource,
    TierUse,
    estimate,
    estimate_payload,
    no_spend,
    price_month,
)
from .ledger import ConflictingCharge, OrderCancelledInReview, OrderPlaced, OrderRenewed, SpendLedger
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
from .payload import pricing_item_from_payload, schedule_of
from shared.schedule import ChargePeriod, Month, Schedule, charge_periods

__all__ = [
    "PRICE_BOOK_2025_01",
    "AreaSummary",
    "CellLevel",
    "ChargePeriod",
    "ConflictingCharge",
    "Estimate",
    "EstimateLine",
    "GridCell",
    "ItemDates",
    "LineKind",
    "Month",
    "MonthTotal",
    "OrderCancelledInReview",
    "OrderPlaced",
    "OrderRenewed",
    "PolygonPart",
    "PriceBook",
    "PricingItem",
    "PricingMode",
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
    "schedule_of",
]
