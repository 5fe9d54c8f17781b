from __future__ import annotations

from typing import Any

from shared.contracts.base import Message, contract
from shared.contracts.common import ItemSnapshot

T_EVENTS, T_COMMANDS = "cart.cart.events", "cart.cart.commands"


@contract("cart.item_added.v1", topic=T_EVENTS, key="cart_id")
class CartItemAdded(Message):
    cart_id: str
    account_id: str
    item_id: str
    item: dict[str, Any]


@contract("cart.item_updated.v1", topic=T_EVENTS, key="cart_id")
class CartItemUpdated(Message):
    cart_id: str
    account_id: str
    item_id: str
    item: dict[str, Any]


@contract("cart.item_removed.v1", topic=T_EVENTS, key="cart_id")
class CartItemRemoved(Message):
    cart_id: str
    account_id: str
    item_id: str


@contract("cart.frozen.v1", topic=T_EVENTS, key="cart_id")
class CartFrozen(Message):
    cart_id: str
    account_id: str
    checkout_id: str
    items: list[ItemSnapshot]


@contract("cart.freeze_rejected.v1", topic=T_EVENTS, key="cart_id")
class CartFreezeRejected(Message):
    cart_id: str
    account_id: str
    checkout_id: str
    code: str
    reason: str


@contract("cart.released.v1", topic=T_EVENTS, key="cart_id")
class CartReleased(Message):
    cart_id: str
    account_id: str
    checkout_id: str


@contract("cart.checked_out.v1", topic=T_EVENTS, key="cart_id")
class CartCheckedOut(Message):
    cart_id: str
    account_id: str
    checkout_id: str


@contract("cart.freeze.v1", topic=T_COMMANDS, key="cart_id")
class FreezeCart(Message):
    cart_id: str
    account_id: str
    checkout_id: str


@contract("cart.release.v1", topic=T_COMMANDS, key="cart_id")
class ReleaseCart(Message):
    cart_id: str
    account_id: str
    checkout_id: str


@contract("cart.close.v1", topic=T_COMMANDS, key="cart_id")
class CloseCart(Message):
    cart_id: str
    account_id: str
    checkout_id: str
