"""Kafka effects of the aoi service: none. The service consumes no topic; it only publishes
``AoiRegistered`` on ``aoi.aoi.events`` through its outbox (services/aoi/usecases.py)."""
from __future__ import annotations

from shared.service import ConsumerSpec

CONSUMERS: tuple[ConsumerSpec, ...] = ()
