from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CartSettings(ServiceSettings):
    """Settings of the cart service (env prefix CART_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="CART_", extra="ignore")
    port: int = 8104
    aoi_url: str = "http://127.0.0.1:8101"
    tiling_url: str = "http://127.0.0.1:8102"
    pricing_url: str = "http://127.0.0.1:8103"
    # The live estimate is a nicety of GET /v1/carts/{id}: past this the cart is shown without it.
    estimate_timeout_seconds: float = 3.0
    # Reading an AOI's facts / resolving a grid selection when an item is added or changed.
    peer_timeout_seconds: float = 5.0
    max_items_per_cart: int = 100
