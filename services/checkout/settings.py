from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class CheckoutSettings(ServiceSettings):
    """Settings of the checkout service (env prefix CHECKOUT_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed)."""

    model_config = SettingsConfigDict(env_prefix="CHECKOUT_", extra="ignore")
    port: int = 8105
    step_timeout_seconds: float = 30.0
    deadline_scan_seconds: float = 1.0
    # while the broker is unreachable, running steps keep at least this long before their deadline
    outage_grace_seconds: float = 60.0
    renewal_interval_seconds: float = 60.0
    # ce_source of a partner -> the accounts it may act for; "/production" may act for every account.
    production_source: str = "/production"
    partners: dict[str, list[str]] = {}
