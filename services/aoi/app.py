"""Composition of the aoi service."""
from pathlib import Path

from services.aoi import api, consumers, usecases
from services.aoi.settings import AoiSettings
from shared.contracts.aoi import AoiRegistered
from shared.service import ServiceSpec
from shared.settings import load_settings


def spec(settings: AoiSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="aoi",
        settings=settings or load_settings(AoiSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=[api.router],
        consumers=list(consumers.CONSUMERS),
        publishes=(AoiRegistered,),
        on_start=usecases.start_imports,
    )
