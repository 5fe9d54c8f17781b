from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CheckoutSettings(ServiceSettings):
    """Settings of the checkout service (env prefix CHECKOUT_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="CHECKOUT_", extra="ignore")
    port: int = 8105
