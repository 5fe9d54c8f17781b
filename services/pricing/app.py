"""Composition of the pricing service."""
from pathlib import Path

from services.pricing import handlers
from services.pricing.settings import PricingSettings
from shared.service import ServiceSpec
from shared.settings import load_settings


def spec(settings: PricingSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="pricing",
        settings=settings or load_settings(PricingSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=[handlers.router],
    )
