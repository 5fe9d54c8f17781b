from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CartSettings(ServiceSettings):
    """Settings of the cart service (env prefix CART_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="CART_", extra="ignore")
    port: int = 8104
