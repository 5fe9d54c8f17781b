"""Composition of the pricing service."""
from pathlib import Path

from services.pricing import api as handlers
from services.pricing.settings import PricingSettings
from shared.contracts.pricing import CheckoutPriced, PricingRejected
from shared.service import ConsumerSpec, ServiceSpec
from shared.settings import load_settings


def spec(settings: PricingSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="pricing",
        settings=settings or load_settings(PricingSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=handlers.routers,
        consumers=[
            ConsumerSpec(name="checkout", topics=("pricing.quote.commands",), effects=handlers.checkout_effects),
            ConsumerSpec(name="spend-ledger", topics=("checkout.order.events", "checkout.checkout.events"),
                         effects=handlers.ledger_effects),
        ],
        background=[handlers.purge_quotes],
        publishes=(CheckoutPriced, PricingRejected),
    )
