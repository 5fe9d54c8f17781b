"""Composition of the aoi service."""
from pathlib import Path

from services.aoi import handlers, work
from services.aoi.settings import AoiSettings
from shared.contracts.aoi import AoiRegistered
from shared.service import Runtime, ServiceSpec
from shared.settings import load_settings


async def start_imports(rt: Runtime) -> None:
    work.start(rt.settings.import_workers, rt.settings.import_queue)


def spec(settings: AoiSettings | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="aoi",
        settings=settings or load_settings(AoiSettings),
        migrations=Path(__file__).parent / "migrations",
        routers=[handlers.router],
        publishes=(AoiRegistered,),
        on_start=start_imports,
    )
