from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.contracts.base import Message, contract
from shared.contracts.common import ItemSnapshot, Renewal, SpendLine
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
    """Price exactly these items (grid cells already reduced by deduplication) at the current spend.
    `price_date` is the pricing day (a renewal: the 1st of its month).

    Sent by the checkout service on `pricing.quote.commands`: by the saga once the cart is frozen
    (and coverage reserved), by the renewal job for a new month.
    Consumed by the pricing service (`pricing.checkout`), which replies CheckoutPriced or
    PricingRejected (the same reply again for the same checkout id).
    """

    account_id: str
    checkout_id: str
    renewal: Renewal | None = None  # set for a renewal (echoed by the reply)
    items: list[ItemSnapshot]
    quote_id: str | None = None
    price_date: date | None = None  # price as of this day (a renewal: the 1st of its month); default today (UTC)


@contract("pricing.checkout_priced.v1", topic=T_EVENTS, key="account_id")
class CheckoutPriced(Message):
    """A checkout's price: `total` due now and, per item, the amount, image dates, lines and the spend
    lines that will count toward the tiers, under `price_book_version`.

    Sent by the pricing service on `pricing.quote.events` in reply to PriceCheckout.
    Consumed by the checkout service's saga (`checkout.saga`): it compares the total with the
    accepted one, debits the credit and places the orders (or pays the renewal).
    """

    account_id: str
    checkout_id: str
    renewal: Renewal | None = None  # set for a renewal (echoed by the reply)
    total: Amount  # due at checkout
    currency: str = "EUR"
    price_book_version: str
    items: list[PricedItem]


@contract("pricing.rejected.v1", topic=T_EVENTS, key="account_id")
class PricingRejected(Message):
    """The items cannot be priced: `code` (`invalid_item`, `empty_checkout`, `amount_out_of_range`) and
    `reason` say why.

    Sent by the pricing service on `pricing.quote.events` in reply to PriceCheckout.
    Consumed by the checkout service's saga (`checkout.saga`), which fails the checkout or pauses
    the renewal.
    """

    account_id: str
    checkout_id: str
    renewal: Renewal | None = None  # set for a renewal (echoed by the reply)
    code: str
    reason: str
