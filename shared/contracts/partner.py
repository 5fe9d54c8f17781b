from __future__ import annotations

from datetime import datetime

from shared.contracts.base import Message, contract


@contract("partner.production_status_reported.v1", topic="partner.order.events", key="order_id")
class ProductionStatusReported(Message):
    """A status report for an order (`status` is one of the order statuses); `ce_source` names the
    sender (`/production` is the production pipeline, other sources are partners).

    Sent by the production pipeline and partner systems, outside Tessera, on `partner.order.events`.
    Consumed by the checkout service (`checkout.production`), which applies legal transitions for
    accounts the sender may act for and emits OrderStatusChanged; anything else goes to
    `partner.order.events.dlq` with the reason.
    """

    order_id: str
    status: str
    reported_at: datetime
    detail: str | None = None
