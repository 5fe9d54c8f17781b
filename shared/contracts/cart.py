from __future__ import annotations

from shared.contracts.base import Message, contract
from shared.contracts.common import ItemSnapshot
from shared.vocabulary import StoredOrderItem

T_EVENTS, T_COMMANDS = "cart.cart.events", "cart.cart.commands"


@contract("cart.item_added.v1", topic=T_EVENTS, key="cart_id")
class CartItemAdded(Message):
    """An item (`item`: the order-item payload) was added to an open cart.

    Sent by the cart service on `cart.cart.events` (`POST /v1/carts/{id}/items`).
    Consumed by no Tessera service today; it is the cart's change feed for readers outside the saga.
    """

    cart_id: str
    account_id: str
    item_id: str
    item: StoredOrderItem


@contract("cart.item_updated.v1", topic=T_EVENTS, key="cart_id")
class CartItemUpdated(Message):
    """An item of an open cart was changed; `item` is its whole new payload.

    Sent by the cart service on `cart.cart.events` (`PATCH /v1/carts/{id}/items/{item}`).
    Consumed by no Tessera service today; it is the cart's change feed for readers outside the saga.
    """

    cart_id: str
    account_id: str
    item_id: str
    item: StoredOrderItem


@contract("cart.item_removed.v1", topic=T_EVENTS, key="cart_id")
class CartItemRemoved(Message):
    """An item was removed from an open cart.

    Sent by the cart service on `cart.cart.events` (`DELETE /v1/carts/{id}/items/{item}`).
    Consumed by no Tessera service today; it is the cart's change feed for readers outside the saga.
    """

    cart_id: str
    account_id: str
    item_id: str


@contract("cart.frozen.v1", topic=T_EVENTS, key="cart_id")
class CartFrozen(Message):
    """The cart is frozen for a checkout: no item changes until it is released or closed. `items` is a
    self-contained snapshot (each payload with its AOI parts or grid cells) that the rest of the saga
    uses without asking the cart again.

    Sent by the cart service on `cart.cart.events` in reply to FreezeCart.
    Consumed by the checkout service's saga (`checkout.saga`), which sends ReserveCoverage (grid
    items) or PriceCheckout next.
    """

    cart_id: str
    account_id: str
    checkout_id: str
    items: list[ItemSnapshot]


@contract("cart.freeze_rejected.v1", topic=T_EVENTS, key="cart_id")
class CartFreezeRejected(Message):
    """The cart cannot be frozen: `code` is `cart_not_found`, `cart_empty`, `cart_frozen` (another
    checkout holds it) or `cart_closed`, and `reason` says so in words.

    Sent by the cart service on `cart.cart.events` in reply to FreezeCart.
    Consumed by the checkout service's saga (`checkout.saga`), which fails the checkout with the reason.
    """

    cart_id: str
    account_id: str
    checkout_id: str
    code: str
    reason: str


@contract("cart.released.v1", topic=T_EVENTS, key="cart_id")
class CartReleased(Message):
    """A failed checkout gave the cart back: it is open again.

    Sent by the cart service on `cart.cart.events` in reply to ReleaseCart.
    Consumed by no Tessera service today (the checkout has already failed when it asks).
    """

    cart_id: str
    account_id: str
    checkout_id: str


@contract("cart.checked_out.v1", topic=T_EVENTS, key="cart_id")
class CartCheckedOut(Message):
    """The cart was bought by the checkout `checkout_id` and is closed for good.

    Sent by the cart service on `cart.cart.events` in reply to CloseCart.
    Consumed by no Tessera service today (the checkout has already completed when it asks).
    """

    cart_id: str
    account_id: str
    checkout_id: str


@contract("cart.freeze.v1", topic=T_COMMANDS, key="cart_id")
class FreezeCart(Message):
    """Freeze this cart for this checkout: the first step of the checkout saga.

    Sent by the checkout service on `cart.cart.commands`, in the transaction that creates the
    checkout (`POST /v1/checkouts`).
    Consumed by the cart service (`cart.saga`), which replies CartFrozen or CartFreezeRejected.
    """

    cart_id: str
    account_id: str
    checkout_id: str


@contract("cart.release.v1", topic=T_COMMANDS, key="cart_id")
class ReleaseCart(Message):
    """The checkout failed: give the cart back to its owner (a compensation).

    Sent by the checkout service on `cart.cart.commands` when a checkout fails after its cart was
    frozen, or when the freeze got no answer in time.
    Consumed by the cart service (`cart.saga`), which reopens the cart and replies CartReleased.
    """

    cart_id: str
    account_id: str
    checkout_id: str


@contract("cart.close.v1", topic=T_COMMANDS, key="cart_id")
class CloseCart(Message):
    """The checkout is paid: close the cart for good.

    Sent by the checkout service on `cart.cart.commands` with the checkout's orders.
    Consumed by the cart service (`cart.saga`), which replies CartCheckedOut.
    """

    cart_id: str
    account_id: str
    checkout_id: str
