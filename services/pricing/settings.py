from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class PricingSettings(ServiceSettings):
    """Settings of the pricing service (env prefix PRICING_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="PRICING_", extra="ignore")
    port: int = 8103
    aoi_url: str = "http://127.0.0.1:8101"
    tiling_url: str = "http://127.0.0.1:8102"
    # A quote is honoured this long (docs/domain.md, Pricing: default 30 minutes).
    quote_ttl_seconds: int = 30 * 60
    # An expired quote is kept this long (support can still show what a customer was told), then
    # deleted by a background job every quote_purge_seconds. At 100 estimates/s of a big selection
    # quotes grow by ~9 MB/s, so they cannot be kept for ever.
    quote_retention_seconds: int = 7 * 24 * 3600
    quote_purge_seconds: float = 300.0
    # The estimate asks tiling which (cell, date) pairs are owned; past this it prices without
    # deduplication and says so (docs/domain.md, Pricing).
    dedup_timeout_seconds: float = 1.5
    aoi_timeout_seconds: float = 5.0
