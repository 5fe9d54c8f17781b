"""Composition of the tiling service: its routes, the coverage consumer and what its outbox publishes."""
from pathlib import Path

from services.tiling import api, consumers
from services.tiling.settings import TilingSettings
from shared.contracts.coverage import (
    T_COMMANDS,
    CoverageCommitted,
    CoverageRejected,
    CoverageReleased,
    CoverageReserved,
)
from shared.service import ConsumerSpec, ServiceSpec
from shared.settings import load_settings


def spec(settings: TilingSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="tiling",
        settings=settings or load_settings(TilingSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=[api.router, api.coverage_router],
        consumers=[ConsumerSpec(name="coverage", topics=(T_COMMANDS,), effects=consumers.coverage_effects)],
        publishes=(CoverageReserved, CoverageRejected, CoverageReleased, CoverageCommitted),
    )
