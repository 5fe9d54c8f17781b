from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class AoiSettings(ServiceSettings):
    """Settings of the aoi service (env prefix AOI_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="AOI_", extra="ignore")
    port: int = 8101
