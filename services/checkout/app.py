"""Composition of the checkout service: its routes, its two consumers (the saga's replies, production
status reports), the deadline scan and the renewal pass, and what its outbox publishes."""
from pathlib import Path

from services.checkout import api, consumers, usecases
from services.checkout.settings import CheckoutSettings
from shared.contracts.cart import CloseCart, FreezeCart, ReleaseCart
from shared.contracts.checkout import (
    CheckoutCompleted,
    CheckoutFailed,
    CheckoutRequested,
    OrderCanceled,
    OrderPlaced,
    OrderRenewed,
    OrderStatusChanged,
    RenewalFailed,
    RenewalStopped,
)
from shared.contracts.coverage import CommitCoverage, ReleaseCoverage, ReserveCoverage
from shared.contracts.pricing import PriceCheckout
from shared.service import ConsumerSpec, ServiceSpec
from shared.settings import load_settings


def spec(settings: CheckoutSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="checkout",
        settings=settings or load_settings(CheckoutSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=[api.router],
        consumers=[
            ConsumerSpec("saga", ("cart.cart.events", "tiling.coverage.events", "pricing.quote.events"),
                         consumers.saga_effects),
            ConsumerSpec("production", ("partner.order.events",), consumers.production_effects),
        ],
        background=[usecases.expire_steps, usecases.renewal_job],
        publishes=(CheckoutRequested, CheckoutCompleted, CheckoutFailed, OrderPlaced, OrderStatusChanged,
                   OrderCanceled, OrderRenewed, RenewalFailed, RenewalStopped, FreezeCart, ReleaseCart, CloseCart,
                   ReserveCoverage, ReleaseCoverage, CommitCoverage, PriceCheckout),
    )
