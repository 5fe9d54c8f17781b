from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class PricingSettings(ServiceSettings):
    """Settings of the pricing service (env prefix PRICING_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="PRICING_", extra="ignore")
    port: int = 8103
    aoi_url: str = "http://127.0.0.1:8101"
    tiling_url: str = "http://127.0.0.1:8102"
    # A quote is honoured this long (DOMAIN.md section 5: default 30 minutes).
    quote_ttl_seconds: int = 30 * 60
    # The estimate asks tiling which (cell, date) pairs are owned; past this it prices without
    # deduplication and says so (issue 5).
    dedup_timeout_seconds: float = 1.5
    aoi_timeout_seconds: float = 5.0
