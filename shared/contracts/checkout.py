from __future__ import annotations

from datetime import datetime

from shared.contracts.base import Message, contract
from shared.contracts.common import Renewal, SpendLine
from shared.money import Amount

T_CHECKOUT, T_ORDER = "checkout.checkout.events", "checkout.order.events"


@contract("checkout.requested.v1", topic=T_CHECKOUT, key="checkout_id")
class CheckoutRequested(Message):
    """A customer asked to check out a cart at the total they accepted.

    Sent by the checkout service on `checkout.checkout.events` from `POST /v1/checkouts`, together
    with FreezeCart.
    Consumed by no Tessera service today (the saga runs from the checkout row); it marks the start of
    a checkout for readers of the topic.
    """

    checkout_id: str
    account_id: str
    cart_id: str
    accepted_total: Amount


@contract("checkout.completed.v1", topic=T_CHECKOUT, key="checkout_id")
class CheckoutCompleted(Message):
    """The checkout is paid (`total`) and its orders exist (`order_ids`).

    Sent by the checkout service on `checkout.checkout.events` when the priced total matched the
    accepted one and the credit sufficed.
    Consumed by no Tessera service today; the customer polls `GET /v1/checkouts/{id}`.
    """

    checkout_id: str
    account_id: str
    order_ids: list[str]
    total: Amount


@contract("checkout.failed.v1", topic=T_CHECKOUT, key="checkout_id")
class CheckoutFailed(Message):
    """A checkout ended without charging anything; `code` and `reason` say why.

    Sent by the checkout service's saga on `checkout.checkout.events` on a refusal or a step deadline.
    Consumed by the pricing service (`pricing.spend-ledger`), which drops that checkout's provisional
    spend.
    """

    checkout_id: str
    account_id: str
    code: str
    reason: str


@contract("order.placed.v1", topic=T_ORDER, key="order_id")
class OrderPlaced(Message):
    """An order was created and paid at checkout: its amount, its status (`Review` or `Preparing`) and
    the spend lines that count toward the month's tiers.

    Sent by the checkout service on `checkout.order.events`, one per cart item, when a checkout
    completes.
    Consumed by the pricing service (`pricing.spend-ledger`), which records the spend and settles the
    checkout's provisional spend.
    """

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
    """An order moved from `from_status` to `to_status` after a status report (`source` is its sender).

    Sent by the checkout service on `checkout.order.events` when a ProductionStatusReported is a legal
    transition.
    Consumed by no Tessera service today; the dashboard reads orders over HTTP.
    """

    order_id: str
    account_id: str
    from_status: str
    to_status: str
    reported_at: datetime
    detail: str | None = None
    source: str | None = None


@contract("order.canceled.v1", topic=T_ORDER, key="order_id")
class OrderCanceled(Message):
    """An order was cancelled in Review: `refunded` went back to the account's credit and
    `spend_reversed` no longer counts toward the months it was charged in.

    Sent by the checkout service on `checkout.order.events` from `POST /v1/orders/{id}:cancel`.
    Consumed by the pricing service (`pricing.spend-ledger`), which records the reversal.
    """

    order_id: str
    account_id: str
    refunded: Amount
    spend_reversed: list[SpendLine]


@contract("order.renewed.v1", topic=T_ORDER, key="order_id")
class OrderRenewed(Message):
    """A recurring order was charged for one more `month`: its amount and spend lines.

    Sent by the checkout service's renewal job on `checkout.order.events` when a renewal is paid.
    Consumed by the pricing service (`pricing.spend-ledger`), which records the spend and settles the
    renewal's provisional spend.
    """

    order_id: str
    account_id: str
    month: str
    amount: Amount
    spend: list[SpendLine]


@contract("order.renewal_failed.v1", topic=T_ORDER, key="order_id")
class RenewalFailed(Message):
    """One attempt to renew a recurring order for a month ended without charging anything (`code`:
    `insufficient_credit`, `coverage_rejected`, `renewal_stopped`, or the pricing refusal's code); the
    order stays and its renewals are paused with `reason` until a later attempt succeeds.

    Sent by the checkout service's renewal job on `checkout.order.events`.
    Consumed by the pricing service (`pricing.spend-ledger`), which drops the provisional spend of that
    attempt and of earlier ones.
    """

    order_id: str
    account_id: str
    renewal: Renewal
    code: str
    reason: str


@contract("order.renewal_stopped.v1", topic=T_ORDER, key="order_id")
class RenewalStopped(Message):
    """A recurring order will not renew after `last_month` (the customer cancelled after Review).

    Sent by the checkout service on `checkout.order.events` from `POST /v1/orders/{id}:cancel`.
    Consumed by no Tessera service today; the renewal job reads the order itself.
    """

    order_id: str
    account_id: str
    last_month: str  # the last month that is produced
