"""Monthly renewal of recurring orders: at 00:00 UTC on the 1st (and on any later pass that month).

A pass is single-active across instances (advisory lock) and safe to re-run: each (order, month)
is charged once (order_charges). A renewal is a small saga of its own; its messages carry the
`Renewal` (order, month, attempt) so every participant knows it for one:

    grid orders:  ReserveCoverage (the month's dates, deduplicated) → CoverageReserved
    every order:  PriceCheckout (as of the 1st, at that month's tiers) → CheckoutPriced
                  → debit, OrderRenewed, CommitCoverage          (paid)
                  → RenewalFailed, ReleaseCoverage, paused       (not enough credit / not priceable)
"""
from __future__ import annotations

import asyncio
import logging
import uuid
import zlib
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from services.checkout import store
from services.checkout.domain.saga import missing_credit
from shared.contracts.checkout import OrderRenewed, RenewalFailed
from shared.contracts.common import Cell, ItemSnapshot, Renewal
from shared.contracts.coverage import (
    CommitCoverage,
    CoverageRejected,
    CoverageRequest,
    CoverageReserved,
    ReleaseCoverage,
    ReserveCoverage,
)
from shared.contracts.pricing import CheckoutPriced, PriceCheckout, PricingRejected
from shared.schedule import Month, utc_today
from shared.service import Runtime
from shared.vocabulary import StoredOrderItem

log = logging.getLogger("tessera.checkout.renewals")
LOCK = zlib.crc32(b"checkout:renewals") & 0x7FFFFFFF
RETRY_PENDING_AFTER = "10 minutes"  # a renewal whose replies never came is started again
RETRY_UNPAID_AFTER = "1 hour"  # an unpaid renewal is tried again (after a top-up it goes through)


def month_item(order, month: Month) -> dict[str, Any]:
    """The order's item restricted to one month: the window starts on its 1st, the cadence keeps its reference."""
    item = dict(order["item"])
    item["reference_date"] = item.get("reference_date") or item["from"]
    item["from"] = month.first_day.isoformat()
    return item


def fresh_cells(order) -> list[Cell]:
    """The order's cells with nothing excluded yet (a new month is deduplicated afresh)."""
    return [Cell(guid=c["guid"], level=c["level"], area_km2=c["area_km2"]) for c in order["cells"]]


async def renew(rt: Runtime, month: Month) -> int:
    """One pass for `month`. Returns how many renewals it started (0 when another instance holds the pass)."""
    async with rt.pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK):
            return 0
        try:
            due = await conn.fetch(
                f"""SELECT o.* FROM orders o
                   WHERE o.recurring AND o.status NOT IN ('Canceled', 'Completed')
                     AND (o.renewal_stopped_after IS NULL OR o.renewal_stopped_after >= $1)
                     AND to_char(o.from_date, 'YYYY-MM') <= $1
                     -- not for a month already paid: its own row, or a later one (checkout pays all earlier dates)
                     AND NOT EXISTS (SELECT 1 FROM order_charges c WHERE c.order_id = o.id AND c.month > $1)
                     AND NOT EXISTS (SELECT 1 FROM order_charges c WHERE c.order_id = o.id AND c.month = $1
                                     AND (c.status IN ('charged', 'refunded')
                                          OR (c.status = 'pending' AND c.at > now() - interval '{RETRY_PENDING_AFTER}')
                                          OR (c.status = 'unpaid'
                                              AND c.at > now() - interval '{RETRY_UNPAID_AFTER}')))""",
                str(month))
            for o in due:
                async with conn.transaction():
                    await start_renewal(rt, conn, o, month)
            return len(due)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK)


async def start_renewal(rt: Runtime, conn, o, month: Month) -> None:
    attempt = await conn.fetchval(
        "INSERT INTO order_charges (order_id, month, amount, status) VALUES ($1, $2, 0, 'pending')"
        " ON CONFLICT (order_id, month) DO UPDATE SET status = 'pending', at = now(),"
        " attempt = order_charges.attempt + 1 RETURNING attempt", o["id"], str(month))
    renewal = Renewal(order_id=str(o["id"]), month=str(month), attempt=attempt)
    try:
        item = StoredOrderItem.model_validate(month_item(o, month))
    except ValidationError as exc:  # the catalog moved on since the order was placed: pause, say why
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "item"
        await give_up(rt, conn, renewal, o, month, "invalid_item",
                      f"renewal for {month} not made: the order's {where} is no longer accepted ({first['msg']})")
        return
    if o["mode"] == "grid":
        dates = list(item.schedule.dates_in_month(month))
        await rt.outbox.add(conn, ReserveCoverage(account_id=o["account_id"], checkout_id=renewal.checkout_id,
                                                  renewal=renewal, items=[CoverageRequest(
            item_id=o["item_id"], model=item.model, constellations=list(item.constellations),
            deduplicate=item.tile_deduplication, cells=fresh_cells(o), dates=dates)]))
    else:
        await price(rt, conn, o, month, renewal, cells=None)


async def price(rt: Runtime, conn, o, month: Month, renewal: Renewal, cells: list[Cell] | None) -> None:
    snap = ItemSnapshot(item_id=o["item_id"], item=month_item(o, month), mode=o["mode"], parts=o["parts"],
                        cells=cells if cells is not None else o["cells"], footprint=o["footprint"])
    await rt.outbox.add(conn, PriceCheckout(account_id=o["account_id"], checkout_id=renewal.checkout_id,
                                            renewal=renewal, items=[snap], price_date=month.first_day))


async def _pending(conn, renewal: Renewal):
    """The order and month of a renewal still waiting for this reply (locked); None otherwise."""
    try:
        order_id, month = uuid.UUID(renewal.order_id), Month.parse(renewal.month)
    except ValueError:
        return None  # not one of ours
    order = await conn.fetchrow("SELECT * FROM orders WHERE id = $1 FOR UPDATE", order_id)
    charge = await conn.fetchrow("SELECT * FROM order_charges WHERE order_id = $1 AND month = $2 FOR UPDATE",
                                 order_id, str(month))
    if order is None or charge is None or charge["status"] != "pending" or charge["attempt"] != renewal.attempt:
        return None  # unknown, settled, or the reply of an earlier attempt
    return order, month


async def give_up(rt: Runtime, conn, renewal: Renewal, order, month: Month, code: str, reason: str,
                  amount: Decimal = Decimal(0)) -> None:
    """Not renewed this month (yet): the order stays, renewals paused with the reason, nothing kept reserved;
    a later pass tries again."""
    await conn.execute("UPDATE order_charges SET status = 'unpaid', amount = $3, detail = $4 WHERE order_id = $1"
                       " AND month = $2", order["id"], str(month), amount, {"code": code, "reason": reason})
    await conn.execute("UPDATE orders SET renewal_paused = $2, updated_at = now() WHERE id = $1", order["id"], reason)
    if order["mode"] == "grid":
        await rt.outbox.add(conn, ReleaseCoverage(account_id=order["account_id"], checkout_id=renewal.checkout_id))
    await rt.outbox.add(conn, RenewalFailed(order_id=str(order["id"]), account_id=order["account_id"], renewal=renewal,
                                            code=code, reason=reason))


async def on_coverage_reserved(rt: Runtime, conn, m: CoverageReserved, renewal: Renewal) -> None:
    found = await _pending(conn, renewal)
    if found is None:
        return
    order, month = found
    cells = [c for outcome in m.items for c in outcome.cells]
    await price(rt, conn, order, month, renewal, cells=cells)


async def on_coverage_rejected(rt: Runtime, conn, m: CoverageRejected, renewal: Renewal) -> None:
    found = await _pending(conn, renewal)
    if found is not None:
        order, month = found
        await give_up(rt, conn, renewal, order, month, "coverage_rejected",
                      f"renewal for {month} could not reserve coverage: {m.reason}")


async def apply_renewal_price(rt: Runtime, conn, m: CheckoutPriced, renewal: Renewal) -> None:
    found = await _pending(conn, renewal)
    if found is None:
        return
    order, month = found
    stopped_after = order["renewal_stopped_after"]
    if order["status"] == "Canceled" or (stopped_after and stopped_after < str(month)):
        await give_up(rt, conn, renewal, order, month, "renewal_stopped",
                      f"renewal for {month} not made: the order stopped")
        return
    amount = Decimal(m.total)
    account = await store.lock_account(conn, order["account_id"])
    short = missing_credit(Decimal(account["balance"]), Decimal(account["overdraft_limit"]), amount)
    if short > 0:
        await give_up(rt, conn, renewal, order, month, "insufficient_credit",
                      f"renewal for {month} paused: EUR {amount:.2f} is due and EUR {short:.2f} is missing; "
                      f"top up to resume", amount)
        return
    await store.post_credit(conn, order["account_id"], -amount, "renewal", f"{order['id']}/{month}")  # once per month
    spend = [s for p in m.items for s in p.spend]
    await conn.execute("UPDATE order_charges SET status = 'charged', amount = $3, detail = $4 WHERE order_id = $1"
                       " AND month = $2", order["id"], str(month), amount, m.model_dump(mode="json"))
    await conn.execute("UPDATE orders SET renewal_paused = NULL, updated_at = now() WHERE id = $1", order["id"])
    if order["mode"] == "grid":
        await rt.outbox.add(conn, CommitCoverage(account_id=order["account_id"], checkout_id=m.checkout_id,
                                                 order_ids={order["item_id"]: str(order["id"])}))
    await rt.outbox.add(conn, OrderRenewed(order_id=str(order["id"]), account_id=order["account_id"], month=str(month),
                                           amount=amount, spend=spend))


async def apply_renewal_rejection(rt: Runtime, conn, m: PricingRejected, renewal: Renewal) -> None:
    found = await _pending(conn, renewal)
    if found is not None:
        order, month = found
        await give_up(rt, conn, renewal, order, month, m.code, f"renewal for {month} could not be priced: {m.reason}")


async def renewal_job(rt: Runtime) -> None:
    """Background job: a pass at every interval; the pass of a new month runs right after 00:00 UTC."""
    while True:
        try:
            await renew(rt, Month.of(utc_today()))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("renewal pass failed")
        await asyncio.sleep(rt.settings.renewal_interval_seconds)
