"""Production status reports from partners and the pipeline (partner.order.events)."""
from __future__ import annotations

import uuid

from services.checkout import store
from services.checkout.domain.orders import IllegalOrderTransition, OrderStatus, parse_status, transition
from shared.contracts.checkout import OrderStatusChanged
from shared.contracts.partner import ProductionStatusReported
from shared.inbox import Incoming, Reject
from shared.service import Runtime


def _order_uuid(text: str) -> uuid.UUID | None:
    """The order's primary key, or None for a text that cannot name an order.

    Only the canonical spelling counts: reports are keyed by the order id, and another spelling of
    the same UUID could land on another partition and overtake the order's earlier reports.
    """
    try:
        value = uuid.UUID(text)
    except ValueError:
        return None
    return value if str(value) == text else None


def effects(rt: Runtime):
    settings = rt.settings

    async def on_status(conn, inc: Incoming) -> None:
        m = inc.message_as(ProductionStatusReported)
        source = inc.envelope.source
        order_id = _order_uuid(m.order_id)
        order = None
        if order_id is not None:
            order = await conn.fetchrow("SELECT * FROM orders WHERE id = $1 FOR UPDATE", order_id)
        if order is None:
            raise Reject(f"unknown order {m.order_id}")
        if source != settings.production_source and order["account_id"] not in settings.partners.get(source, []):
            raise Reject(f"sender {source} may not act for account {order['account_id']}")
        try:
            current = OrderStatus(order["status"])
            target = transition(current, parse_status(m.status), recurring=order["recurring"])
        except IllegalOrderTransition as exc:
            raise Reject(f"order {m.order_id}: {exc}") from None
        await conn.execute("UPDATE orders SET status = $2, updated_at = now() WHERE id = $1", order["id"], str(target))
        await store.add_history(conn, order["id"], str(current), str(target), source, m.detail, at=m.reported_at)
        await rt.outbox.add(conn, OrderStatusChanged(order_id=m.order_id, account_id=order["account_id"],
                                                     from_status=current, to_status=target, reported_at=m.reported_at,
                                                     detail=m.detail, source=source))

    return {ProductionStatusReported.TYPE: on_status}
