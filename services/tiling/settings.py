from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class TilingSettings(ServiceSettings):
    """Settings of the tiling service (env prefix TILING_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="TILING_", extra="ignore")
    port: int = 8102
