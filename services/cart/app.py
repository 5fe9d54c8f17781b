"""Composition of the cart service."""
from pathlib import Path

from services.cart import api, consumers
from services.cart.settings import CartSettings
from shared.contracts.cart import (
    CartCheckedOut,
    CartFreezeRejected,
    CartFrozen,
    CartItemAdded,
    CartItemRemoved,
    CartItemUpdated,
    CartReleased,
)
from shared.service import ConsumerSpec, ServiceSpec
from shared.settings import load_settings


def spec(settings: CartSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="cart",
        settings=settings or load_settings(CartSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=[api.router],
        consumers=[
            ConsumerSpec(name="saga", topics=("cart.cart.commands",), effects=consumers.saga_effects),
        ],
        publishes=(CartItemAdded, CartItemUpdated, CartItemRemoved, CartFrozen, CartFreezeRejected, CartReleased,
                   CartCheckedOut),
    )
