from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.contracts.base import Message, contract
from shared.contracts.common import ItemSnapshot, SpendLine
from shared.money import Amount

T_COMMANDS, T_EVENTS = "pricing.quote.commands", "pricing.quote.events"


class PricedItem(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    item_id: str
    amount_due: Amount  # charged at checkout
    image_dates: list[date]
    lines: list[dict[str, Any]]  # the estimate's lines for this item (amounts as strings)
    spend: list[SpendLine]  # what counts toward tiers, per month and family


@contract("pricing.price_checkout.v1", topic=T_COMMANDS, key="account_id")
class PriceCheckout(Message):
    """Price exactly these items (grid cells already reduced by deduplication) at the current spend."""

    account_id: str
    checkout_id: str
    items: list[ItemSnapshot]
    quote_id: str | None = None
    price_date: date | None = None  # price as of this day (a renewal: the 1st of its month); default today (UTC)


@contract("pricing.checkout_priced.v1", topic=T_EVENTS, key="account_id")
class CheckoutPriced(Message):
    account_id: str
    checkout_id: str
    total: Amount  # due at checkout
    currency: str = "EUR"
    price_book_version: str
    items: list[PricedItem]


@contract("pricing.rejected.v1", topic=T_EVENTS, key="account_id")
class PricingRejected(Message):
    account_id: str
    checkout_id: str
    code: str
    reason: str
