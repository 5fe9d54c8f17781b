"""Monthly renewal of recurring orders: at 00:00 UTC on the 1st (and on any later pass that month).

A pass is single-active across instances (advisory lock) and safe to re-run: each (order, month)
is charged once (order_charges). The month is priced by pricing at that month's tiers through the
same PriceCheckout command the saga uses, with the id `renewal:<order>:<month>`.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from datetime import datetime, timezone
from decimal import Decimal

from services.checkout import store
from services.checkout.domain.saga import missing_credit
from shared.contracts.checkout import OrderRenewed
from shared.contracts.common import ItemSnapshot
from shared.contracts.pricing import CheckoutPriced, PriceCheckout, PricingRejected
from shared.schedule import Month
from shared.service import Runtime

log = logging.getLogger("tessera.checkout.renewals")
LOCK = zlib.crc32(b"checkout:renewals") & 0x7FFFFFFF


def renewal_id(order_id: str, month: Month) -> str:
    return f"renewal:{order_id}:{month}"


def parse_renewal_id(checkout_id: str) -> tuple[str, str] | None:
    """(order id, month) of one of our renewal ids; None for anything else."""
    parts = checkout_id.split(":", 2)
    try:
        uuid.UUID(parts[1])
        Month.parse(parts[2])
    except (IndexError, ValueError):
        return None
    return parts[1], parts[2]


async def renew(rt: Runtime, month: Month) -> int:
    """One pass for `month`: ask pricing for every recurring order not yet charged for it.
    Returns how many orders were sent for pricing (0 when another instance holds the pass)."""
    async with rt.pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK):
            return 0
        try:
            due = await conn.fetch(
                """SELECT o.* FROM orders o
                   WHERE o.recurring AND o.status NOT IN ('Canceled', 'Completed')
                     AND (o.renewal_stopped_after IS NULL OR o.renewal_stopped_after >= $1)
                     AND to_char(o.from_date, 'YYYY-MM') <= $1
                     AND NOT EXISTS (SELECT 1 FROM order_charges c WHERE c.order_id = o.id AND c.month = $1
                                     AND c.status IN ('charged', 'pending'))""", str(month))
            for o in due:
                async with conn.transaction():
                    item = dict(o["item"])
                    # price exactly this month: the window starts at its 1st, the cadence keeps its reference
                    item["reference_date"] = item.get("reference_date") or item["from"]
                    item["from"] = month.first_day.isoformat()
                    snap = ItemSnapshot(item_id=o["item_id"], item=item, mode=o["mode"], parts=o["parts"],
                                        cells=o["cells"], footprint=o["footprint"])
                    await conn.execute(
                        "INSERT INTO order_charges (order_id, month, amount, status) VALUES ($1, $2, 0, 'pending')"
                        " ON CONFLICT (order_id, month) DO UPDATE SET status = 'pending', at = now()", o["id"], str(month))
                    await rt.outbox.add(conn, PriceCheckout(account_id=o["account_id"], price_date=month.first_day,
                                                            checkout_id=renewal_id(str(o["id"]), month), items=[snap]))
            return len(due)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK)


async def apply_renewal_price(rt: Runtime, conn, m: CheckoutPriced) -> None:
    parsed = parse_renewal_id(m.checkout_id)
    if parsed is None:
        return
    order_id, month = parsed
    order = await conn.fetchrow("SELECT * FROM orders WHERE id = $1::uuid FOR UPDATE", order_id)
    charge = await conn.fetchrow("SELECT * FROM order_charges WHERE order_id = $1::uuid AND month = $2 FOR UPDATE",
                                 order_id, month)
    if order is None or charge is None or charge["status"] == "charged":
        return
    if order["status"] == "Canceled" or (order["renewal_stopped_after"] and order["renewal_stopped_after"] < month):
        await conn.execute("DELETE FROM order_charges WHERE order_id = $1::uuid AND month = $2", order_id, month)
        return
    amount = Decimal(m.total)
    account = await store.lock_account(conn, order["account_id"])
    short = missing_credit(Decimal(account["balance"]), Decimal(account["overdraft_limit"]), amount)
    if short > 0:
        reason = f"renewal for {month} paused: EUR {amount:.2f} is due and EUR {short:.2f} is missing; top up to resume"
        await conn.execute("UPDATE order_charges SET status = 'unpaid', amount = $3 WHERE order_id = $1::uuid AND month = $2",
                           order_id, month, amount)
        await conn.execute("UPDATE orders SET renewal_paused = $2, updated_at = now() WHERE id = $1::uuid", order_id, reason)
        return
    await store.post_credit(conn, order["account_id"], -amount, "renewal", f"{order_id}/{month}")
    spend = [s for p in m.items for s in p.spend]
    await conn.execute("UPDATE order_charges SET status = 'charged', amount = $3, detail = $4 WHERE order_id = $1::uuid"
                       " AND month = $2", order_id, month, amount, m.model_dump(mode="json"))
    await conn.execute("UPDATE orders SET renewal_paused = NULL, updated_at = now() WHERE id = $1::uuid", order_id)
    await rt.outbox.add(conn, OrderRenewed(order_id=order_id, account_id=order["account_id"], month=month,
                                           amount=amount, spend=spend))


async def apply_renewal_rejection(conn, m: PricingRejected) -> None:
    parsed = parse_renewal_id(m.checkout_id)
    if parsed is None:
        return
    order_id, month = parsed
    await conn.execute("UPDATE order_charges SET status = 'unpaid', detail = $3 WHERE order_id = $1::uuid AND month = $2"
                       " AND status = 'pending'", order_id, month, {"code": m.code, "reason": m.reason})
    await conn.execute("UPDATE orders SET renewal_paused = $2 WHERE id = $1::uuid", order_id,
                       f"renewal for {month} could not be priced: {m.reason}")


async def renewal_job(rt: Runtime) -> None:
    """Background job: a pass at every interval; the pass of a new month runs right after 00:00 UTC."""
    while True:
        try:
            await renew(rt, Month.of(datetime.now(timezone.utc).date()))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("renewal pass failed")
        await asyncio.sleep(rt.settings.renewal_interval_seconds)
