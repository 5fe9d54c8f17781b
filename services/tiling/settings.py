from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class TilingSettings(ServiceSettings):
    """Settings of the tiling service (env prefix TILING_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="TILING_", extra="ignore")
    port: int = 8102
    aoi_url: str = "http://127.0.0.1:8101"
    aoi_timeout_seconds: float = 5.0

    # Result caps. Cells with footprints (GeoJSON, ~0.2 ms and up to ~6 kB each) are listed up to
    # max_footprint_cells per response; without footprints (footprints=false) up to max_cells.
    max_footprint_cells: int = 5_000
    max_cells: int = 200_000
    # GET /v1/coverage: viewport size (in tiles of the viewport) and cells returned.
    coverage_max_viewport_tiles: int = 20_000
    coverage_max_cells: int = 5_000
