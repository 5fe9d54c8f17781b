"""The checkout saga's Kafka effects: each reply is accepted only in the step that waits for it.

Every effect runs inside the inbox transaction: the checkout row is locked, its state changes and
the next command (or the compensations) go to the outbox together.
"""
from __future__ import annotations

import logging
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import shapely
from shapely.geometry import shape

from services.checkout import store
from services.checkout.domain.orders import OrderStatus
from services.checkout.domain.saga import (
    Failure,
    Step,
    advance,
    apply_coverage,
    dates_charged_at_checkout,
    missing_credit,
    price_changed,
)
from services.checkout.handlers import renewals
from shared.contracts.cart import CartFreezeRejected, CartFrozen, CloseCart, ReleaseCart
from shared.contracts.checkout import CheckoutCompleted, CheckoutFailed, OrderPlaced
from shared.contracts.common import ItemSnapshot
from shared.contracts.coverage import (
    CommitCoverage,
    CoverageRejected,
    CoverageRequest,
    CoverageReserved,
    ReleaseCoverage,
    ReserveCoverage,
)
from shared.contracts.pricing import CheckoutPriced, PriceCheckout, PricingRejected
from shared.geo.h3index import aoi_cells
from shared.inbox import Incoming
from shared.schedule import Month
from shared.service import Runtime

log = logging.getLogger("tessera.checkout.saga")


async def fail(rt: Runtime, conn, co, failure: Failure, *, detail: dict | None = None) -> None:
    """Mark the checkout failed and send the compensations that apply to the step it reached."""
    step = Step(co["step"])
    advance(step, Step.FAILED)
    await store.set_step(conn, co["id"], Step.FAILED, None, failure_code=failure.code,
                         failure_reason=failure.reason, failure_detail=detail)
    cid, acct, cart = str(co["id"]), co["account_id"], co["cart_id"]
    has_grid = any(i.get("mode") == "grid" for i in (co["snapshot"] or []))
    if step in (Step.RESERVING, Step.PRICING) and (has_grid or co["reserved"]):
        await rt.outbox.add(conn, ReleaseCoverage(account_id=acct, checkout_id=cid))
    if step != Step.FREEZING or failure.code == "step_timeout":
        await rt.outbox.add(conn, ReleaseCart(cart_id=cart, account_id=acct, checkout_id=cid))
    await rt.outbox.add(conn,
                        CheckoutFailed(checkout_id=cid, account_id=acct, code=failure.code, reason=failure.reason))
    log.info("checkout %s failed at %s: %s", cid, step, failure.code)


async def running(conn, checkout_id: str, step: Step):
    """The locked checkout when it waits in `step`; None for a late or duplicate reply."""
    try:
        uuid.UUID(checkout_id)
    except ValueError:
        return None  # not one of ours (checkout ids are UUIDs)
    co = await store.lock_checkout(conn, checkout_id)
    if co is None or co["step"] != step:
        return None
    return co


def effects(rt: Runtime) -> dict[str, Any]:
    timeout = rt.settings.step_timeout_seconds

    async def on_cart_frozen(conn, inc: Incoming) -> None:
        m: CartFrozen = inc.message
        co = await running(conn, m.checkout_id, Step.FREEZING)
        if co is None:
            return
        snapshot = [i.model_dump(mode="json") for i in m.items]
        grid = [i for i in m.items if i.mode == "grid"]
        if grid:
            requests = [CoverageRequest(
                item_id=i.item_id, model=i.item.model, constellations=list(i.item.constellations),
                deduplicate=i.item.tile_deduplication, cells=i.cells,
                dates=dates_charged_at_checkout(i.item, co["price_date"])) for i in grid]
            await store.set_step(conn, co["id"], advance(Step.FREEZING, Step.RESERVING), timeout, snapshot=snapshot)
            await rt.outbox.add(conn,
                                ReserveCoverage(account_id=co["account_id"], checkout_id=m.checkout_id, items=requests))
        else:
            await store.set_step(conn, co["id"], advance(Step.FREEZING, Step.PRICING), timeout, snapshot=snapshot)
            await rt.outbox.add(conn,
                                PriceCheckout(account_id=co["account_id"], checkout_id=m.checkout_id, items=m.items,
                                                    price_date=co["price_date"]))

    async def on_cart_freeze_rejected(conn, inc: Incoming) -> None:
        m: CartFreezeRejected = inc.message
        co = await running(conn, m.checkout_id, Step.FREEZING)
        if co is not None:
            await fail(rt, conn, co, Failure(m.code, m.reason))

    async def on_coverage_reserved(conn, inc: Incoming) -> None:
        m: CoverageReserved = inc.message
        if m.renewal is not None:
            await renewals.on_coverage_reserved(rt, conn, m, m.renewal)
            return
        co = await running(conn, m.checkout_id, Step.RESERVING)
        if co is None:
            return
        items = apply_coverage(co["snapshot"], [o.model_dump(mode="json") for o in m.items])
        await store.set_step(conn, co["id"], advance(Step.RESERVING, Step.PRICING), timeout, snapshot=items,
                             reserved=True)
        await rt.outbox.add(conn, PriceCheckout(account_id=co["account_id"], checkout_id=m.checkout_id,
                                                items=[ItemSnapshot.model_validate(i) for i in items],
                                                price_date=co["price_date"]))

    async def on_coverage_rejected(conn, inc: Incoming) -> None:
        m: CoverageRejected = inc.message
        if m.renewal is not None:
            await renewals.on_coverage_rejected(rt, conn, m, m.renewal)
            return
        co = await running(conn, m.checkout_id, Step.RESERVING)
        if co is not None:
            await fail(rt, conn, co, Failure("coverage_rejected", m.reason))

    async def on_pricing_rejected(conn, inc: Incoming) -> None:
        m: PricingRejected = inc.message
        if m.renewal is not None:
            await renewals.apply_renewal_rejection(rt, conn, m, m.renewal)
            return
        co = await running(conn, m.checkout_id, Step.PRICING)
        if co is not None:
            await fail(rt, conn, co, Failure("pricing_rejected", m.reason))

    async def on_checkout_priced(conn, inc: Incoming) -> None:
        m: CheckoutPriced = inc.message
        if m.renewal is not None:
            await renewals.apply_renewal_price(rt, conn, m, m.renewal)
            return
        co = await running(conn, m.checkout_id, Step.PRICING)
        if co is None:
            return
        accepted, total = Decimal(co["accepted_total"]), Decimal(m.total)
        changed = price_changed(accepted, total)
        if changed:
            await fail(rt, conn, co, changed, detail={"new_total": f"{total:.2f}", "accepted_total": f"{accepted:.2f}"})
            return
        account = await store.lock_account(conn, co["account_id"])
        short = missing_credit(Decimal(account["balance"]), Decimal(account["overdraft_limit"]), total)
        if short > 0:
            await fail(rt, conn, co, Failure("insufficient_credit",
                       f"not enough credit: EUR {total:.2f} is due, EUR {short:.2f} is missing; top up and try again"),
                       detail={"missing": f"{short:.2f}", "due": f"{total:.2f}"})
            return
        await store.post_credit(conn, co["account_id"], -total, "debit", m.checkout_id)
        status = OrderStatus.PREPARING if account["skip_review"] else OrderStatus.REVIEW
        priced = {p.item_id: p for p in m.items}
        order_ids: dict[str, str] = {}
        for item in co["snapshot"]:
            p = priced[item["item_id"]]
            order = build_order(co, item, p, status)
            await store.insert_order(conn, order)
            await store.add_history(conn, order["id"], None, status, "/services/checkout", "order placed")
            # what was paid (imagery and extras), charged in the checkout month; renewals add later months
            await conn.execute("INSERT INTO order_charges (order_id, month, amount, status)"
                               " VALUES ($1, $2, $3, 'charged') ON CONFLICT DO NOTHING",
                               order["id"], str(Month.of(co["price_date"])), p.amount_due)
            order_ids[item["item_id"]] = str(order["id"])
            await rt.outbox.add(conn, OrderPlaced(
                order_id=str(order["id"]), account_id=co["account_id"], checkout_id=m.checkout_id, model=order["model"],
                constellations=order["constellations"], status=status, amount=p.amount_due, spend=p.spend,
                item_id=item["item_id"]))
        if any(i["mode"] == "grid" for i in co["snapshot"]):
            await rt.outbox.add(conn,
                                CommitCoverage(account_id=co["account_id"], checkout_id=m.checkout_id,
                                               order_ids=order_ids))
        await rt.outbox.add(conn,
                            CloseCart(cart_id=co["cart_id"], account_id=co["account_id"], checkout_id=m.checkout_id))
        await store.set_step(conn, co["id"], advance(Step.PRICING, Step.COMPLETED), None, total=total,
                             priced=m.model_dump(mode="json"), order_ids=list(order_ids.values()))
        await rt.outbox.add(conn, CheckoutCompleted(checkout_id=m.checkout_id, account_id=co["account_id"],
                                                    order_ids=list(order_ids.values()), total=total))

    return {
        CartFrozen.TYPE: on_cart_frozen,
        CartFreezeRejected.TYPE: on_cart_freeze_rejected,
        CoverageReserved.TYPE: on_coverage_reserved,
        CoverageRejected.TYPE: on_coverage_rejected,
        CheckoutPriced.TYPE: on_checkout_priced,
        PricingRejected.TYPE: on_pricing_rejected,
    }


def build_order(co, item: dict[str, Any], priced, status: OrderStatus) -> dict[str, Any]:
    payload = item["item"]
    footprint = item.get("footprint")
    bbox, cells = None, []
    if footprint:
        geom = shape(footprint)
        if not geom.is_empty:
            bbox = list(shapely.bounds(geom))
            cells = aoi_cells(geom)
    return {
        "id": uuid.uuid5(co["id"], item["item_id"]),
        "account_id": co["account_id"],
        "checkout_id": str(co["id"]),
        "item_id": item["item_id"],
        "item": payload,
        "mode": item["mode"],
        "model": payload["model"],
        "constellations": list(payload["constellations"]),
        "status": str(status),
        "recurring": payload.get("to") is None,
        "from_date": date.fromisoformat(payload["from"]),
        "to_date": date.fromisoformat(payload["to"]) if payload.get("to") else None,
        "amount": priced.amount_due,
        "price": {"lines": priced.lines, "image_dates": [d.isoformat() for d in priced.image_dates]},
        "spend": [s.model_dump(mode="json") for s in priced.spend],
        "parts": item.get("parts", []),
        "cells": item.get("cells", []),
        "footprint": footprint,
        "bbox": bbox,
        "h3_cells": cells,
    }


async def expire_steps(rt: Runtime) -> None:
    """Background job: a step whose reply did not come in time fails the checkout (with compensations).

    While the broker cannot be reached no step can get its answer, so no deadline runs out: each running
    step keeps at least `outage_grace_seconds` ahead of it, which also covers the time the relays and
    consumers need to catch up once the broker is back. A participant that is really down, with the
    broker up, still fails the checkout at its deadline.
    """
    import asyncio

    while True:
        try:
            problem = await rt.broker_problem()
            async with rt.pool.acquire() as conn:
                if problem:
                    held = await store.hold_deadlines(conn, rt.settings.outage_grace_seconds)
                    if held:
                        log.warning("broker %s: deadlines of %s running checkouts held", problem, held)
                else:
                    async with conn.transaction():
                        for co in await store.lock_expired(conn, 50):
                            await fail(rt, conn, co, Failure(
                                "step_timeout", f"the {co['step']} step got no answer within "
                                                f"{rt.settings.step_timeout_seconds:.0f} s; "
                                                "nothing was charged, try again"))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("deadline scan failed")
        await asyncio.sleep(rt.settings.deadline_scan_seconds)
