"""Settings: one class per service with its own env prefix; a missing required value stops boot.

Infrastructure addresses are read unprefixed (`DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`) so that one
environment serves every service; everything else is `<SERVICE>_<NAME>` (e.g. `AOI_PORT`).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TypeVar

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_KEYS = Path(__file__).parent / "devkeys"


class ServiceSettings(BaseSettings):
    """Base for every service's settings; subclasses set `model_config` with their env prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    database_url: str = Field(validation_alias=AliasChoices("DATABASE_URL"))
    kafka_bootstrap_servers: str = Field(validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS"))
    host: str = "127.0.0.1"
    port: int
    cors_origins: list[str] = ["http://localhost:3000", "http://127.0.0.1:3000"]
    jwt_public_key_file: Path = Field(
        default=DEV_KEYS / "jwt_dev_public.pem",
        validation_alias=AliasChoices("JWT_PUBLIC_KEY_FILE"),
    )
    jwt_issuer: str = Field(default="tessera-dev", validation_alias=AliasChoices("JWT_ISSUER"))
    # an OpenID Connect provider's access tokens name their audience (the API's client id or URL)
    jwt_audience: str | None = Field(default=None, validation_alias=AliasChoices("JWT_AUDIENCE"))
    db_pool_min: int = 1
    db_pool_max: int = 10
    topic_partitions: int = Field(default=6, validation_alias=AliasChoices("TOPIC_PARTITIONS"))
    outbox_poll_seconds: float = 1.0
    outbox_retention_seconds: int = 24 * 3600
    outbox_stall_seconds: float = 60.0  # a relay failing this long makes /readyz fail
    consumer_max_attempts: int = 5
    idempotency_retention_seconds: float = 24 * 3600  # an Idempotency-Key replays for this long
    idempotency_purge_seconds: float = 300.0
    log_level: str = "INFO"


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Build settings from the environment; on a missing or invalid value exit naming it."""
    try:
        return cls()
    except ValidationError as exc:
        prefix = cls.model_config.get("env_prefix", "")
        problems = []
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "?"
            env = name if name.isupper() else f"{prefix}{name}".upper()
            what = "missing" if err["type"] == "missing" else f"invalid ({err['msg']})"
            problems.append(f"{env}: {what}")
        sys.exit(f"{cls.__name__}: cannot start, required settings: " + "; ".join(problems))
