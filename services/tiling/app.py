"""Composition of the tiling service."""
from pathlib import Path

from services.tiling import handlers
from services.tiling.settings import TilingSettings
from shared.service import ServiceSpec
from shared.settings import load_settings


def spec(settings: TilingSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="tiling",
        settings=settings or load_settings(TilingSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=[handlers.router],
    )
