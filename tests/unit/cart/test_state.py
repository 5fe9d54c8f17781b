"""The cart state machine: open -> frozen -> open | checked_out; illegal moves raise."""
from __future__ import annotations

import pytest

from services.cart.domain import (
    Cart,
    CartLocked,
    CartStatus,
    FreezeRefusal,
    IllegalCartTransition,
    NotHeld,
    close,
    ensure_editable,
    freeze,
    release,
)

OPEN = Cart(id="c1", account_id="a1", item_count=2)
EMPTY = Cart(id="c1", account_id="a1", item_count=0)
FROZEN_BY_K1 = Cart(id="c1", account_id="a1", status=CartStatus.FROZEN, checkout_id="k1", item_count=2)
RELEASED_BY_K1 = Cart(id="c1", account_id="a1", status=CartStatus.OPEN, checkout_id="k1", item_count=2)
CLOSED_BY_K1 = Cart(id="c1", account_id="a1", status=CartStatus.CHECKED_OUT, checkout_id="k1", item_count=2)


def test_freeze_an_open_cart_with_items():
    t = freeze(OPEN, "k1")
    assert t.changed
    assert t.cart.status is CartStatus.FROZEN and t.cart.checkout_id == "k1"
    assert t.cart.item_count == 2


def test_freeze_again_by_the_same_checkout_is_idempotent():
    t = freeze(FROZEN_BY_K1, "k1")
    assert not t.changed and t.cart == FROZEN_BY_K1


@pytest.mark.parametrize(
    ("cart", "checkout", "code", "names"),
    [
        (EMPTY, "k1", "cart_empty", "no items"),
        (FROZEN_BY_K1, "k2", "cart_frozen", "k1"),
        (CLOSED_BY_K1, "k1", "cart_closed", "k1"),
        (CLOSED_BY_K1, "k2", "cart_closed", "k1"),
    ],
)
def test_freeze_refusals_carry_the_saga_code(cart, checkout, code, names):
    with pytest.raises(FreezeRefusal) as exc:
        freeze(cart, checkout)
    assert exc.value.code == code
    assert names in exc.value.reason


def test_release_by_the_holder_reopens():
    t = release(FROZEN_BY_K1, "k1")
    assert t.changed and t.cart.status is CartStatus.OPEN
    # the releasing checkout is remembered, so a repeated release is recognised
    again = release(t.cart, "k1")
    assert not again.changed and again.cart.status is CartStatus.OPEN


@pytest.mark.parametrize(("cart", "checkout"), [(FROZEN_BY_K1, "k2"), (OPEN, "k1"), (RELEASED_BY_K1, "k2")])
def test_release_by_a_checkout_not_holding_it_raises_not_held(cart, checkout):
    with pytest.raises(NotHeld):
        release(cart, checkout)


def test_a_checked_out_cart_cannot_be_reopened():
    with pytest.raises(IllegalCartTransition) as exc:
        release(CLOSED_BY_K1, "k1")
    assert not isinstance(exc.value, NotHeld)


def test_close_by_the_holder_checks_out_and_is_idempotent():
    t = close(FROZEN_BY_K1, "k1")
    assert t.changed and t.cart.status is CartStatus.CHECKED_OUT and t.cart.checkout_id == "k1"
    again = close(t.cart, "k1")
    assert not again.changed and again.cart == t.cart


@pytest.mark.parametrize(("cart", "checkout"), [(OPEN, "k1"), (RELEASED_BY_K1, "k1"), (FROZEN_BY_K1, "k2"),
                                                (CLOSED_BY_K1, "k2")])
def test_illegal_closes_raise(cart, checkout):
    with pytest.raises(IllegalCartTransition):
        close(cart, checkout)


def test_refreeze_after_release_is_allowed():
    reopened = release(FROZEN_BY_K1, "k1").cart
    t = freeze(reopened, "k2")
    assert t.changed and t.cart.checkout_id == "k2"


def test_only_open_carts_are_editable_and_a_locked_one_names_the_checkout():
    ensure_editable(OPEN)
    ensure_editable(RELEASED_BY_K1)
    with pytest.raises(CartLocked) as frozen:
        ensure_editable(FROZEN_BY_K1)
    assert frozen.value.code == "cart_frozen" and frozen.value.checkout_id == "k1"
    assert "checkout k1" in frozen.value.detail
    with pytest.raises(CartLocked) as closed:
        ensure_editable(CLOSED_BY_K1)
    assert closed.value.code == "cart_checked_out" and "checkout k1" in closed.value.detail


def test_every_path_through_the_machine():
    """open -> frozen(k1) -> open -> frozen(k2) -> checked_out; nothing moves a checked-out cart."""
    c = freeze(OPEN, "k1").cart
    c = release(c, "k1").cart
    c = freeze(c, "k2").cart
    c = close(c, "k2").cart
    assert c.status is CartStatus.CHECKED_OUT and c.checkout_id == "k2"
    for move in (lambda: freeze(c, "k3"), lambda: release(c, "k2"), lambda: close(c, "k3")):
        with pytest.raises((FreezeRefusal, IllegalCartTransition)):
            move()
