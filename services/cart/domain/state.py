"""The cart's state machine (docs/architecture.md, The checkout saga). Pure.

    open --freeze(c)--> frozen by c --release(c)--> open
                                    --close(c)----> checked_out (terminal)

- Items change only while the cart is ``open``; a frozen cart names the checkout that holds it.
- ``freeze`` by the checkout already holding the cart is idempotent (``changed`` False); by
  another checkout, on an empty cart, or on a checked-out cart it is refused with a saga code
  (``CartFreezeRejected.code``).
- ``release`` by the holder reopens the cart; a release by the checkout that released it last is
  idempotent. Releasing a cart held by another checkout, never frozen by this one, or checked out
  raises ``NotHeld`` / ``IllegalCartTransition``.
- ``close`` by the holder checks the cart out; again by the same checkout it is idempotent.
  Anything else raises ``IllegalCartTransition``.

``checkout_id`` is the checkout that froze the cart last; it stays after a release so that a
repeated release can be recognised, and after a close it names the checkout that bought it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class CartStatus(StrEnum):
    OPEN = "open"
    FROZEN = "frozen"
    CHECKED_OUT = "checked_out"


class FreezeRefusal(Exception):
    """FreezeCart cannot be granted: ``code`` is one of the CartFreezeRejected codes."""

    CART_NOT_FOUND = "cart_not_found"
    CART_EMPTY = "cart_empty"
    CART_FROZEN = "cart_frozen"
    CART_CLOSED = "cart_closed"

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


class IllegalCartTransition(Exception):
    """A move the state machine does not allow (e.g. closing an open cart, reopening a checked-out one)."""


class NotHeld(IllegalCartTransition):
    """A release by a checkout that does not hold the cart: nothing to release."""


class CartLocked(Exception):
    """The cart refuses item changes: ``code`` cart_frozen | cart_checked_out, ``checkout_id`` why."""

    def __init__(self, code: str, detail: str, checkout_id: str | None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.checkout_id = code, detail, checkout_id


@dataclass(frozen=True, slots=True)
class Cart:
    id: str
    account_id: str
    status: CartStatus = CartStatus.OPEN
    checkout_id: str | None = None
    item_count: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    cart: Cart
    changed: bool  # False: already in the asked state (idempotent repeat), nothing to write


def ensure_editable(cart: Cart) -> None:
    """Raise ``CartLocked`` unless items may change (status open)."""
    if cart.status is CartStatus.FROZEN:
        raise CartLocked(
            "cart_frozen",
            f"cart {cart.id} is frozen by checkout {cart.checkout_id}, which is in progress; its items cannot "
            "change until that checkout completes or fails (a failed checkout unfreezes the cart)",
            cart.checkout_id,
        )
    if cart.status is CartStatus.CHECKED_OUT:
        raise CartLocked(
            "cart_checked_out",
            f"cart {cart.id} was checked out by checkout {cart.checkout_id}; its items are orders now and it "
            "cannot change: create a new cart",
            cart.checkout_id,
        )


def freeze(cart: Cart, checkout_id: str) -> Transition:
    if cart.status is CartStatus.CHECKED_OUT:
        raise FreezeRefusal(FreezeRefusal.CART_CLOSED,
                            f"cart {cart.id} was already checked out by checkout {cart.checkout_id}")
    if cart.status is CartStatus.FROZEN:
        if cart.checkout_id == checkout_id:
            return Transition(cart, False)
        raise FreezeRefusal(FreezeRefusal.CART_FROZEN,
                            f"cart {cart.id} is frozen by another checkout ({cart.checkout_id}) in progress")
    if cart.item_count < 1:
        raise FreezeRefusal(FreezeRefusal.CART_EMPTY, f"cart {cart.id} has no items: add an item before checking out")
    return Transition(replace(cart, status=CartStatus.FROZEN, checkout_id=checkout_id), True)


def release(cart: Cart, checkout_id: str) -> Transition:
    if cart.status is CartStatus.CHECKED_OUT:
        raise IllegalCartTransition(f"cart {cart.id} was checked out by checkout {cart.checkout_id}; "
                                    "it cannot be reopened")
    if cart.status is CartStatus.FROZEN:
        if cart.checkout_id == checkout_id:
            return Transition(replace(cart, status=CartStatus.OPEN), True)
        raise NotHeld(f"cart {cart.id} is frozen by checkout {cart.checkout_id}, not by {checkout_id}")
    if cart.checkout_id == checkout_id:
        return Transition(cart, False)  # released before by this checkout
    raise NotHeld(f"cart {cart.id} is open and was never frozen by checkout {checkout_id}")


def close(cart: Cart, checkout_id: str) -> Transition:
    if cart.status is CartStatus.CHECKED_OUT:
        if cart.checkout_id == checkout_id:
            return Transition(cart, False)
        raise IllegalCartTransition(f"cart {cart.id} was checked out by another checkout ({cart.checkout_id})")
    if cart.status is CartStatus.FROZEN and cart.checkout_id == checkout_id:
        return Transition(replace(cart, status=CartStatus.CHECKED_OUT), True)
    if cart.status is CartStatus.FROZEN:
        raise IllegalCartTransition(f"cart {cart.id} is frozen by checkout {cart.checkout_id}, not by {checkout_id}")
    raise IllegalCartTransition(f"cart {cart.id} is open (not frozen by checkout {checkout_id}); only a frozen cart "
                            "can be checked out")
