from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class PricingSettings(ServiceSettings):
    """Settings of the pricing service (env prefix PRICING_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="PRICING_", extra="ignore")
    port: int = 8103
