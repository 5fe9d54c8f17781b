from __future__ import annotations

from datetime import datetime

from shared.contracts.base import Message, contract


@contract("partner.production_status_reported.v1", topic="partner.order.events", key="order_id")
class ProductionStatusReported(Message):
    """A production status report; `ce_source` names the partner (`/production` is the pipeline)."""

    order_id: str
    status: str
    reported_at: datetime
    detail: str | None = None
