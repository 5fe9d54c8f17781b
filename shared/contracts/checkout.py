from __future__ import annotations

from datetime import datetime

from shared.contracts.base import Message, contract
from shared.contracts.common import SpendLine
from shared.money import Amount

T_CHECKOUT, T_ORDER = "checkout.checkout.events", "checkout.order.events"


@contract("checkout.requested.v1", topic=T_CHECKOUT, key="checkout_id")
class CheckoutRequested(Message):
    checkout_id: str
    account_id: str
    cart_id: str
    accepted_total: Amount


@contract("checkout.completed.v1", topic=T_CHECKOUT, key="checkout_id")
class CheckoutCompleted(Message):
    checkout_id: str
    account_id: str
    order_ids: list[str]
    total: Amount


@contract("checkout.failed.v1", topic=T_CHECKOUT, key="checkout_id")
class CheckoutFailed(Message):
    checkout_id: str
    account_id: str
    code: str
    reason: str


@contract("order.placed.v1", topic=T_ORDER, key="order_id")
class OrderPlaced(Message):
    order_id: str
    account_id: str
    checkout_id: str
    model: str
    constellations: list[str]
    status: str
    amount: Amount
    spend: list[SpendLine]  # counts toward the monthly tiers (pricing's spend ledger)
    item_id: str | None = None  # the cart item it was made from (pricing settles its provisional spend by it)


@contract("order.status_changed.v1", topic=T_ORDER, key="order_id")
class OrderStatusChanged(Message):
    order_id: str
    account_id: str
    from_status: str
    to_status: str
    reported_at: datetime
    detail: str | None = None
    source: str | None = None


@contract("order.canceled.v1", topic=T_ORDER, key="order_id")
class OrderCanceled(Message):
    order_id: str
    account_id: str
    refunded: Amount
    spend_reversed: list[SpendLine]


@contract("order.renewed.v1", topic=T_ORDER, key="order_id")
class OrderRenewed(Message):
    order_id: str
    account_id: str
    month: str
    amount: Amount
    spend: list[SpendLine]


@contract("order.renewal_stopped.v1", topic=T_ORDER, key="order_id")
class RenewalStopped(Message):
    order_id: str
    account_id: str
    last_month: str  # the last month that is produced
