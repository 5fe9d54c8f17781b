"""The checkout service's transactions, called by its routes (api), its Kafka effects (consumers) and
its background jobs (app): start a checkout, credits and account settings, order reads, cancellation,
the checkout saga's steps and deadlines, production status reports, and monthly renewals.

HTTP use cases open their own transaction; ``POST /v1/checkouts`` and a top-up run under the request's
Idempotency-Key (``shared.idempotency``), their answer kept in the same transaction as their change.

Saga effects run inside the inbox transaction (the connection they are given): the checkout row is
locked, its state changes and the next command (or the compensations) go to the outbox together. Each
reply is accepted only in the step that waits for it; a late or duplicate reply changes nothing.

Renewals run at 00:00 UTC on the 1st (and on any later pass that month). A pass is single-active
across instances (advisory lock) and safe to re-run: each (order, month) is charged once
(order_charges). A renewal is a small saga of its own; its messages carry the `Renewal` (order,
month, attempt) so every participant knows it for one:

    grid orders:  ReserveCoverage (the month's dates, deduplicated) → CoverageReserved
    every order:  PriceCheckout (as of the 1st, at that month's tiers) → CheckoutPriced
                  → debit, OrderRenewed, CommitCoverage          (paid)
                  → RenewalFailed, ReleaseCoverage, paused       (not enough credit / not priceable)
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date
from decimal import Decimal
from typing import Any, cast

import asyncpg
from fastapi.responses import Response
from pydantic import ValidationError

from services.checkout import store, views
from services.checkout.domain import overlay as overlay_rules
from services.checkout.domain.orders import (
    IllegalOrderTransition,
    OrderStatus,
    ReportRefused,
    build_order,
    cancel_decision,
    order_uuid,
    parse_status,
    transition,
)
from services.checkout.domain.renewals import fresh_cells, month_item
from services.checkout.domain.saga import (
    Failure,
    Step,
    advance,
    apply_coverage,
    dates_charged_at_checkout,
    missing_credit,
    price_changed,
)
from services.checkout.settings import CheckoutSettings
from shared import idempotency
from shared.contracts.cart import CartFreezeRejected, CartFrozen, CloseCart, FreezeCart, ReleaseCart
from shared.contracts.checkout import (
    CheckoutCompleted,
    CheckoutFailed,
    CheckoutRequested,
    OrderCanceled,
    OrderPlaced,
    OrderRenewed,
    OrderStatusChanged,
    RenewalFailed,
    RenewalStopped,
)
from shared.contracts.common import Cell, ItemSnapshot, Renewal, SpendLine
from shared.contracts.coverage import (
    CommitCoverage,
    CoverageRejected,
    CoverageRequest,
    CoverageReserved,
    ReleaseCoverage,
    ReserveCoverage,
)
from shared.contracts.partner import ProductionStatusReported
from shared.contracts.pricing import CheckoutPriced, PriceCheckout, PricingRejected
from shared.money import MAX_AMOUNT, format_amount
from shared.problems import Problem, not_found
from shared.schedule import Month, utc_today
from shared.service import Runtime
from shared.vocabulary import StoredOrderItem

log = logging.getLogger("tessera.checkout.saga")
renewal_log = logging.getLogger("tessera.checkout.renewals")


def _settings(rt: Runtime) -> CheckoutSettings:
    return cast(CheckoutSettings, rt.settings)


# ------------------------------------------------------------------------------ HTTP: checkouts


async def start_checkout(rt: Runtime, account: str, key: str, fingerprint: str, cart_id: str,
                         accepted_total: Decimal) -> Response:
    """A new checkout of the cart at the accepted total, its first command (FreezeCart) sent; a retry
    under the same Idempotency-Key replays the first 202 answer."""

    async def apply(conn: asyncpg.Connection) -> idempotency.Outcome:
        checkout_id = uuid.uuid4()
        row = await store.insert_checkout(conn, checkout_id, account, cart_id, accepted_total,
                                          _settings(rt).step_timeout_seconds)
        await rt.outbox.add(conn, CheckoutRequested(checkout_id=str(checkout_id), account_id=account,
                                                    cart_id=cart_id, accepted_total=accepted_total))
        await rt.outbox.add(conn, FreezeCart(cart_id=cart_id, account_id=account, checkout_id=str(checkout_id)))
        body, headers = views.started_checkout(row)
        return 202, body, headers

    return await idempotency.run(rt.pool, account, key, fingerprint, apply)


async def get_checkout(rt: Runtime, account: str, checkout_id: uuid.UUID) -> dict[str, Any]:
    row = await store.get_checkout(rt.pool, checkout_id, account)
    if row is None:
        raise not_found("checkout", checkout_id)
    return views.checkout_view(row)


# ------------------------------------------------------------------------------ HTTP: accounts


async def _account(conn: asyncpg.Connection, account: str) -> dict[str, Any]:
    return views.account_view(account, await store.get_account(conn, account), await store.credit_ledger(conn, account))


async def account(rt: Runtime, account: str) -> dict[str, Any]:
    async with rt.pool.acquire() as conn:
        return await _account(conn, account)


async def top_up(rt: Runtime, caller: str, account: str, amount: Decimal, key: str | None,
                 fingerprint: str) -> Response:
    """Add prepaid credit. Under the admin's Idempotency-Key (per the admin's account, as every key) a
    retry replays the first answer; the key is also the ledger row's reference, so a top-up is found
    by it (a generated one without a key)."""

    async def apply(conn: asyncpg.Connection) -> idempotency.Outcome:
        row = await store.lock_account(conn, account)
        if row["balance"] + amount >= MAX_AMOUNT:
            raise Problem(409, "balance_limit", f"account {account} holds {format_amount(row['balance'])} EUR; adding "
                                                f"{format_amount(amount)} would reach the most a balance may hold "
                                                f"({MAX_AMOUNT:,} EUR)", field="amount")
        if not await store.post_credit(conn, account, amount, "topup", key or f"topup-{uuid.uuid4()}"):
            # the ledger outlives the key's replay (purged after its retention, or sent by another admin
            # account): posting it again would credit twice, answering as if posted would be a lie
            raise Problem(422, "idempotency_key_reused",
                          f"Idempotency-Key {key!r} already names a top-up of account {account} (its ledger "
                          "reference); send a new key for a new top-up",
                          errors=[{"field": "Idempotency-Key", "message": "already names a top-up of this account"}])
        return 200, await _account(conn, account), {}

    return await idempotency.run(rt.pool, caller, key, fingerprint, apply)


async def update_account(rt: Runtime, account: str, overdraft_limit: Decimal | None,
                         skip_review: bool | None) -> dict[str, Any]:
    """Set the overdraft limit and/or whether orders skip Review (None: unchanged)."""
    async with rt.pool.acquire() as conn, conn.transaction():
        await store.lock_account(conn, account)
        if overdraft_limit is not None:
            await store.set_overdraft_limit(conn, account, overdraft_limit)
        if skip_review is not None:
            await store.set_skip_review(conn, account, skip_review)
        return await _account(conn, account)


# ------------------------------------------------------------------------------ HTTP: orders


async def list_orders(rt: Runtime, account: str, statuses: list[str] | None, model: str | None,
                      limit: int) -> dict[str, Any]:
    return views.order_list(await store.list_orders(rt.pool, account, statuses, model, limit))


async def order_detail(rt: Runtime, account: str, order_id: uuid.UUID) -> dict[str, Any]:
    row = await store.get_order(rt.pool, order_id, account)
    if row is None:
        raise not_found("order", order_id)
    return views.order_detail(row, await store.order_history(rt.pool, order_id),
                              await store.order_charges(rt.pool, order_id))


async def overlay(rt: Runtime, account: str, bbox: str, *, model: str | None, statuses: list[str] | None,
                  date_from: date | None, date_to: date | None, date_match: str, limit: int,
                  cursor: str | None) -> dict[str, Any]:
    """One page: the orders among the next ``limit`` candidates (newest first) whose footprint meets
    the viewport. A page may hold fewer than ``limit`` orders; ``next_cursor`` is null at the end."""
    view = overlay_rules.viewport(bbox)
    after = overlay_rules.decode_cursor(cursor)
    rows = await store.overlay_candidates(rt.pool, account, cells=view.cells, bbox=view.bbox, model=model,
                                          statuses=statuses, date_from=date_from, date_to=date_to,
                                          within=date_match == "within", limit=limit, after=after)
    hits = overlay_rules.meets([r["footprint"] for r in rows], view.geometry)
    next_cursor = overlay_rules.encode_cursor(rows[-1]) if len(rows) == limit else None
    return views.overlay_page(rows, hits, next_cursor, view.prefilter)


async def cancel_order(rt: Runtime, account: str, order_id: uuid.UUID) -> dict[str, Any]:
    """Full cancel in Review (refund, spend reversed, coverage released); afterwards only a recurring
    order's next renewal can be stopped."""
    async with rt.pool.acquire() as conn, conn.transaction():
        r = await store.lock_order(conn, order_id, account)
        if r is None:
            raise not_found("order", order_id)
        decision = cancel_decision(OrderStatus(r["status"]), recurring=r["recurring"],
                                   renewal_stopped=r["renewal_stopped_after"] is not None)
        if decision.kind == "refused":
            raise Problem(409, "cancel_refused", decision.reason, status_now=r["status"])
        if decision.kind == "stop_renewal":
            this_month = str(Month.of(utc_today()))
            await store.stop_renewals(conn, order_id, this_month)
            await rt.outbox.add(conn, RenewalStopped(order_id=str(order_id), account_id=r["account_id"],
                                                     last_month=this_month))
            return views.renewal_stopped(str(order_id), this_month)
        refund = sum(await store.charged_amounts(conn, order_id), Decimal(0))
        await store.lock_account(conn, r["account_id"])
        await store.post_credit(conn, r["account_id"], refund, "refund", str(order_id))
        await store.mark_canceled(conn, order_id)
        await store.add_history(conn, order_id, r["status"], "Canceled", f"/accounts/{account}",
                                "canceled by customer")
        spend = [SpendLine(**s) for s in r["spend"]]  # the checkout's; renewals' spend is in their charge detail
        for detail in await store.charge_details(conn, order_id):
            spend += [SpendLine(**s) for item in detail.get("items", []) for s in item.get("spend", [])]
        await rt.outbox.add(conn, OrderCanceled(order_id=str(order_id), account_id=r["account_id"], refunded=refund,
                                                spend_reversed=spend))
        if r["mode"] == "grid":
            await rt.outbox.add(conn, ReleaseCoverage(account_id=r["account_id"], checkout_id=str(r["checkout_id"]),
                                                      order_ids=[str(order_id)]))
        return views.canceled(str(order_id), refund)


# ------------------------------------------------------------------------------ the checkout saga


async def fail(rt: Runtime, conn: asyncpg.Connection, co: asyncpg.Record, failure: Failure, *,
               detail: dict[str, Any] | None = None) -> None:
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


async def _running(conn: asyncpg.Connection, checkout_id: str, step: Step) -> asyncpg.Record | None:
    """The locked checkout when it waits in `step`; None for a late or duplicate reply."""
    try:
        uuid.UUID(checkout_id)
    except ValueError:
        return None  # not one of ours (checkout ids are UUIDs)
    co = await store.lock_checkout(conn, checkout_id)
    if co is None or co["step"] != step:
        return None
    return co


async def cart_frozen(rt: Runtime, conn: asyncpg.Connection, m: CartFrozen) -> None:
    """The cart is frozen: reserve coverage for its grid items, or (none) price it at once."""
    co = await _running(conn, m.checkout_id, Step.FREEZING)
    if co is None:
        return
    timeout = _settings(rt).step_timeout_seconds
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


async def cart_freeze_rejected(rt: Runtime, conn: asyncpg.Connection, m: CartFreezeRejected) -> None:
    co = await _running(conn, m.checkout_id, Step.FREEZING)
    if co is not None:
        await fail(rt, conn, co, Failure(m.code, m.reason))


async def coverage_reserved(rt: Runtime, conn: asyncpg.Connection, m: CoverageReserved) -> None:
    """Coverage is reserved: price what remains to buy after deduplication (a renewal's: its month)."""
    if m.renewal is not None:
        await _renewal_coverage_reserved(rt, conn, m, m.renewal)
        return
    co = await _running(conn, m.checkout_id, Step.RESERVING)
    if co is None:
        return
    items = apply_coverage(co["snapshot"], [o.model_dump(mode="json") for o in m.items])
    await store.set_step(conn, co["id"], advance(Step.RESERVING, Step.PRICING), _settings(rt).step_timeout_seconds,
                         snapshot=items, reserved=True)
    await rt.outbox.add(conn, PriceCheckout(account_id=co["account_id"], checkout_id=m.checkout_id,
                                            items=[ItemSnapshot.model_validate(i) for i in items],
                                            price_date=co["price_date"]))


async def _renewal_refused(rt: Runtime, conn: asyncpg.Connection, renewal: Renewal, code: str, what: str) -> None:
    """A participant refused a renewal still waiting for it: pause the order's renewals, saying why."""
    found = await _pending_renewal(conn, renewal)
    if found is not None:
        order, month = found
        await _give_up(rt, conn, renewal, order, month, code, f"renewal for {month} {what}")


async def coverage_rejected(rt: Runtime, conn: asyncpg.Connection, m: CoverageRejected) -> None:
    if m.renewal is not None:
        await _renewal_refused(rt, conn, m.renewal, "coverage_rejected", f"could not reserve coverage: {m.reason}")
        return
    co = await _running(conn, m.checkout_id, Step.RESERVING)
    if co is not None:
        await fail(rt, conn, co, Failure("coverage_rejected", m.reason))


async def pricing_rejected(rt: Runtime, conn: asyncpg.Connection, m: PricingRejected) -> None:
    if m.renewal is not None:
        await _renewal_refused(rt, conn, m.renewal, m.code, f"could not be priced: {m.reason}")
        return
    co = await _running(conn, m.checkout_id, Step.PRICING)
    if co is not None:
        await fail(rt, conn, co, Failure("pricing_rejected", m.reason))


async def checkout_priced(rt: Runtime, conn: asyncpg.Connection, m: CheckoutPriced) -> None:
    """The checkout is priced: at the accepted total and with enough credit, debit the account, place
    one order per item, commit coverage and close the cart; otherwise fail it (nothing charged)."""
    if m.renewal is not None:
        await _renewal_priced(rt, conn, m, m.renewal)
        return
    co = await _running(conn, m.checkout_id, Step.PRICING)
    if co is None:
        return
    accepted, total = Decimal(co["accepted_total"]), Decimal(m.total)
    changed = price_changed(accepted, total)
    if changed:
        await fail(rt, conn, co, changed, detail={"new_total": f"{total:.2f}", "accepted_total": f"{accepted:.2f}"})
        return
    acct = await store.lock_account(conn, co["account_id"])
    short = missing_credit(Decimal(acct["balance"]), Decimal(acct["overdraft_limit"]), total)
    if short > 0:
        await fail(rt, conn, co, Failure("insufficient_credit",
                   f"not enough credit: EUR {total:.2f} is due, EUR {short:.2f} is missing; top up and try again"),
                   detail={"missing": f"{short:.2f}", "due": f"{total:.2f}"})
        return
    await store.post_credit(conn, co["account_id"], -total, "debit", m.checkout_id)
    status = OrderStatus.PREPARING if acct["skip_review"] else OrderStatus.REVIEW
    priced = {p.item_id: p for p in m.items}
    order_ids: dict[str, str] = {}
    for item in co["snapshot"]:
        p = priced[item["item_id"]]
        order = build_order(co["id"], co["account_id"], item, p, status)
        await store.insert_order(conn, order)
        await store.add_history(conn, order["id"], None, status, "/services/checkout", "order placed")
        # what was paid (imagery and extras), charged in the checkout month; renewals add later months
        await store.add_checkout_charge(conn, order["id"], str(Month.of(co["price_date"])), p.amount_due)
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


async def expire_steps(rt: Runtime) -> None:
    """Background job: a step whose reply did not come in time fails the checkout (with compensations).

    While the broker cannot be reached no step can get its answer, so no deadline runs out: each running
    step keeps at least `outage_grace_seconds` ahead of it, which also covers the time the relays and
    consumers need to catch up once the broker is back. A participant that is really down, with the
    broker up, still fails the checkout at its deadline.
    """
    settings = _settings(rt)
    while True:
        try:
            problem = await rt.broker_problem()
            async with rt.pool.acquire() as conn:
                if problem:
                    held = await store.hold_deadlines(conn, settings.outage_grace_seconds)
                    if held:
                        log.warning("broker %s: deadlines of %s running checkouts held", problem, held)
                else:
                    async with conn.transaction():
                        for co in await store.lock_expired(conn, 50):
                            await fail(rt, conn, co, Failure(
                                "step_timeout", f"the {co['step']} step got no answer within "
                                                f"{settings.step_timeout_seconds:.0f} s; "
                                                "nothing was charged, try again"))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("deadline scan failed")
        await asyncio.sleep(settings.deadline_scan_seconds)


# ------------------------------------------------------------------------------ production status reports


async def report_status(rt: Runtime, conn: asyncpg.Connection, m: ProductionStatusReported, source: str) -> None:
    """Move the order along the state machine as production (or a partner allowed for its account)
    reports; ReportRefused for a report that can never apply."""
    settings = _settings(rt)
    order_id = order_uuid(m.order_id)
    order = await store.lock_order(conn, order_id) if order_id is not None else None
    if order is None:
        raise ReportRefused(f"unknown order {m.order_id}")
    if source != settings.production_source and order["account_id"] not in settings.partners.get(source, []):
        raise ReportRefused(f"sender {source} may not act for account {order['account_id']}")
    try:
        current = OrderStatus(order["status"])
        target = transition(current, parse_status(m.status), recurring=order["recurring"])
    except IllegalOrderTransition as exc:
        raise ReportRefused(f"order {m.order_id}: {exc}") from None
    await store.set_order_status(conn, order["id"], str(target))
    await store.add_history(conn, order["id"], str(current), str(target), source, m.detail, at=m.reported_at)
    await rt.outbox.add(conn, OrderStatusChanged(order_id=m.order_id, account_id=order["account_id"],
                                                 from_status=current, to_status=target, reported_at=m.reported_at,
                                                 detail=m.detail, source=source))


# ------------------------------------------------------------------------------ renewals


async def renew(rt: Runtime, month: Month) -> int:
    """One pass for `month`. Returns how many renewals it started (0 when another instance holds the pass)."""
    async with rt.pool.acquire() as conn:
        if not await store.try_renewal_lock(conn):
            return 0
        try:
            due = await store.due_renewals(conn, str(month))
            for o in due:
                async with conn.transaction():
                    await _start_renewal(rt, conn, o, month)
            return len(due)
        finally:
            await store.release_renewal_lock(conn)


async def _start_renewal(rt: Runtime, conn: asyncpg.Connection, o: asyncpg.Record, month: Month) -> None:
    attempt = await store.start_charge(conn, o["id"], str(month))
    renewal = Renewal(order_id=str(o["id"]), month=str(month), attempt=attempt)
    try:
        item = StoredOrderItem.model_validate(month_item(o, month))
    except ValidationError as exc:  # the catalog moved on since the order was placed: pause, say why
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "item"
        await _give_up(rt, conn, renewal, o, month, "invalid_item",
                       f"renewal for {month} not made: the order's {where} is no longer accepted ({first['msg']})")
        return
    if o["mode"] == "grid":
        dates = list(item.schedule.dates_in_month(month))
        await rt.outbox.add(conn, ReserveCoverage(account_id=o["account_id"], checkout_id=renewal.checkout_id,
                                                  renewal=renewal, items=[CoverageRequest(
            item_id=o["item_id"], model=item.model, constellations=list(item.constellations),
            deduplicate=item.tile_deduplication, cells=fresh_cells(o), dates=dates)]))
    else:
        await _price_renewal(rt, conn, o, month, renewal, cells=None)


async def _price_renewal(rt: Runtime, conn: asyncpg.Connection, o: asyncpg.Record, month: Month, renewal: Renewal,
                         cells: list[Cell] | None) -> None:
    snap = ItemSnapshot(item_id=o["item_id"], item=month_item(o, month), mode=o["mode"], parts=o["parts"],
                        cells=cells if cells is not None else o["cells"], footprint=o["footprint"])
    await rt.outbox.add(conn, PriceCheckout(account_id=o["account_id"], checkout_id=renewal.checkout_id,
                                            renewal=renewal, items=[snap], price_date=month.first_day))


async def _pending_renewal(conn: asyncpg.Connection, renewal: Renewal) -> tuple[asyncpg.Record, Month] | None:
    """The order and month of a renewal still waiting for this reply (locked); None otherwise."""
    try:
        order_id, month = uuid.UUID(renewal.order_id), Month.parse(renewal.month)
    except ValueError:
        return None  # not one of ours
    order = await store.lock_order(conn, order_id)
    charge = await store.lock_charge(conn, order_id, str(month))
    if order is None or charge is None or charge["status"] != "pending" or charge["attempt"] != renewal.attempt:
        return None  # unknown, settled, or the reply of an earlier attempt
    return order, month


async def _give_up(rt: Runtime, conn: asyncpg.Connection, renewal: Renewal, order: asyncpg.Record, month: Month,
                   code: str, reason: str, amount: Decimal = Decimal(0)) -> None:
    """Not renewed this month (yet): the order stays, renewals paused with the reason, nothing kept reserved;
    a later pass tries again."""
    await store.settle_charge(conn, order["id"], str(month), "unpaid", amount, {"code": code, "reason": reason})
    await store.set_renewal_paused(conn, order["id"], reason)
    if order["mode"] == "grid":
        await rt.outbox.add(conn, ReleaseCoverage(account_id=order["account_id"], checkout_id=renewal.checkout_id))
    await rt.outbox.add(conn, RenewalFailed(order_id=str(order["id"]), account_id=order["account_id"], renewal=renewal,
                                            code=code, reason=reason))


async def _renewal_coverage_reserved(rt: Runtime, conn: asyncpg.Connection, m: CoverageReserved,
                                     renewal: Renewal) -> None:
    found = await _pending_renewal(conn, renewal)
    if found is None:
        return
    order, month = found
    cells = [c for outcome in m.items for c in outcome.cells]
    await _price_renewal(rt, conn, order, month, renewal, cells=cells)


async def _renewal_priced(rt: Runtime, conn: asyncpg.Connection, m: CheckoutPriced, renewal: Renewal) -> None:
    found = await _pending_renewal(conn, renewal)
    if found is None:
        return
    order, month = found
    stopped_after = order["renewal_stopped_after"]
    if order["status"] == "Canceled" or (stopped_after and stopped_after < str(month)):
        await _give_up(rt, conn, renewal, order, month, "renewal_stopped",
                       f"renewal for {month} not made: the order stopped")
        return
    amount = Decimal(m.total)
    acct = await store.lock_account(conn, order["account_id"])
    short = missing_credit(Decimal(acct["balance"]), Decimal(acct["overdraft_limit"]), amount)
    if short > 0:
        await _give_up(rt, conn, renewal, order, month, "insufficient_credit",
                       f"renewal for {month} paused: EUR {amount:.2f} is due and EUR {short:.2f} is missing; "
                       f"top up to resume", amount)
        return
    await store.post_credit(conn, order["account_id"], -amount, "renewal", f"{order['id']}/{month}")  # once per month
    spend = [s for p in m.items for s in p.spend]
    await store.settle_charge(conn, order["id"], str(month), "charged", amount, m.model_dump(mode="json"))
    await store.set_renewal_paused(conn, order["id"], None)
    if order["mode"] == "grid":
        await rt.outbox.add(conn, CommitCoverage(account_id=order["account_id"], checkout_id=m.checkout_id,
                                                 order_ids={order["item_id"]: str(order["id"])}))
    await rt.outbox.add(conn, OrderRenewed(order_id=str(order["id"]), account_id=order["account_id"], month=str(month),
                                           amount=amount, spend=spend))


async def renewal_job(rt: Runtime) -> None:
    """Background job: a pass at every interval; the pass of a new month runs right after 00:00 UTC."""
    while True:
        try:
            await renew(rt, Month.of(utc_today()))
        except asyncio.CancelledError:
            raise
        except Exception:
            renewal_log.exception("renewal pass failed")
        await asyncio.sleep(_settings(rt).renewal_interval_seconds)
