"""Composition of the checkout service."""
from pathlib import Path

from services.checkout import handlers
from services.checkout.settings import CheckoutSettings
from shared.service import ServiceSpec
from shared.settings import load_settings


def spec(settings: CheckoutSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="checkout",
        settings=settings or load_settings(CheckoutSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=[handlers.router],
    )
