"""Composition of the pricing service."""
from pathlib import Path

from services.pricing import api, consumers, usecases
from services.pricing.settings import PricingSettings
from shared.contracts.pricing import CheckoutPriced, PricingRejected
from shared.service import ConsumerSpec, ServiceSpec
from shared.settings import load_settings


def spec(settings: PricingSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="pricing",
        settings=settings or load_settings(PricingSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=api.routers,
        consumers=[
            ConsumerSpec(name="checkout", topics=("pricing.quote.commands",), effects=consumers.checkout_effects),
            ConsumerSpec(name="spend-ledger", topics=("checkout.order.events", "checkout.checkout.events"),
                         effects=consumers.ledger_effects),
        ],
        background=[usecases.purge_quotes],
        publishes=(CheckoutPriced, PricingRejected),
    )
