"""The tiling service's use cases, called by the routes (api.py) and the coverage effects (consumers.py).

The coverage ledger as the checkout saga uses it: ReserveCoverage / ReleaseCoverage / CommitCoverage.
Each runs inside the inbox transaction (a redelivered message is skipped by the inbox) and first takes
the account's advisory lock, so two reservations of one account are serialised: the second one loads
the first one's groups and finds their pairs owned. A re-sent ReserveCoverage for a checkout already
answered replies the stored answer again; releasing or committing an unknown or already finished
checkout replies the event anyway (nothing left to do).

Reading it: the preview of a proposed grid item and the account's coverage map. And the AOI a grid
route works on, however it is given (WKT, GeoJSON, a stored AOI or a bounding box).
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import asyncpg
from shapely.geometry.base import BaseGeometry

from services.tiling import peers, store
from services.tiling.domain import (
    CoverageGroup,
    CoverageLedger,
    CoverageReservation,
    DateSet,
    Deduplication,
    IllegalReservationTransition,
    LedgerKey,
    ReservationStatus,
    deduplicate,
    no_deduplication,
)
from services.tiling.domain.area import bbox_geometry
from services.tiling.domain.coverage import MapCell, families_of, map_cells, outcome, read_reserve, rejection_reason
from services.tiling.domain.errors import InvalidBbox
from shared.contracts.coverage import (
    CommitCoverage,
    CoverageCommitted,
    CoverageRejected,
    CoverageReleased,
    CoverageReserved,
    ReleaseCoverage,
    ReserveCoverage,
)
from shared.geo import AoiError, import_aoi
from shared.grid import CellId
from shared.inbox import Reject
from shared.problems import Problem
from shared.service import Runtime

log = logging.getLogger("tessera.tiling.coverage")


async def load_ledger(conn: asyncpg.Connection, key: LedgerKey, families: Sequence[int]) -> CoverageLedger:
    """The ledger key's live coverage touching these tile families, as the domain's ledger."""
    ledger = CoverageLedger()
    for row in await store.held_groups(conn, key, families):
        ledger.hold(row.holding, [CoverageGroup(row.cells, row.dates)])
    return ledger


def _reservation(row: store.GroupRow) -> CoverageReservation:
    key = LedgerKey.of("", row.model, row.constellations.split(","))
    return CoverageReservation(row.holding, key, (), ReservationStatus(row.status))


# ---------------------------------------------------------------------------------------- reserve


async def reserve(rt: Runtime, conn: asyncpg.Connection, msg: ReserveCoverage) -> CoverageReserved | CoverageRejected:
    await store.lock_account(conn, msg.account_id)
    prior = await store.checkout_reply(conn, msg.account_id, msg.checkout_id)
    if prior is not None:  # a re-sent command: the same answer again
        reply_type = CoverageReserved if prior["outcome"] == "reserved" else CoverageRejected
        reply = reply_type.model_validate(prior["reply"])
        await rt.outbox.add(conn, reply)
        return reply

    items, problems = read_reserve(msg)
    if problems:
        rejected = CoverageRejected(account_id=msg.account_id, checkout_id=msg.checkout_id, renewal=msg.renewal,
                                    code="invalid_cells", reason=rejection_reason(problems))
        await store.record_checkout(conn, msg.account_id, msg.checkout_id, "rejected", rejected.model_dump(mode="json"))
        await rt.outbox.add(conn, rejected)
        return rejected

    # one in-memory ledger per ledger key, loaded once (inside the lock) for every item of that key;
    # an item's reservation is held in it at once, so a later item of the same checkout sees it too
    wanted: dict[LedgerKey, set[int]] = {}
    for item in items:
        wanted.setdefault(item.key, set()).update(c.family for _, c in item.cells)
    ledgers = {key: await load_ledger(conn, key, sorted(fams)) for key, fams in wanted.items()}

    outcomes = []
    for item in items:
        ledger = ledgers[item.key]
        cells = [c for _, c in item.cells]
        # CPU work off the event loop (the transaction stays open on this connection meanwhile)
        result = await asyncio.to_thread(deduplicate if item.deduplicate else _no_dedup, cells, item.dates, ledger)
        groups = result.to_buy_groups()
        for group in groups:
            await store.insert_group(conn, item.key, msg.checkout_id, item.item_id, group)
        ledger.hold(f"new/{item.item_id}", groups)
        outcomes.append(outcome(item, result))

    reserved = CoverageReserved(account_id=msg.account_id, checkout_id=msg.checkout_id, renewal=msg.renewal,
                                items=outcomes)
    await store.record_checkout(conn, msg.account_id, msg.checkout_id, "reserved", reserved.model_dump(mode="json"))
    await rt.outbox.add(conn, reserved)
    return reserved


def _no_dedup(cells: Iterable[CellId], dates: DateSet, _ledger: CoverageLedger) -> Deduplication:
    return no_deduplication(cells, dates)


# ---------------------------------------------------------------------------------------- release


async def release(rt: Runtime, conn: asyncpg.Connection, msg: ReleaseCoverage) -> None:
    await store.lock_account(conn, msg.account_id)
    freed: list[int] = []
    if msg.order_ids is None:
        # saga compensation: the checkout's reservation, not yet committed
        for row in await store.checkout_groups(conn, msg.account_id, msg.checkout_id):
            if row.status == ReservationStatus.RESERVED:
                _reservation(row).release()
                freed.append(row.id)
            elif row.status == ReservationStatus.COMMITTED:
                log.warning("ReleaseCoverage of checkout %s leaves group %s of order %s committed "
                            "(name the order in order_ids to release committed coverage)",
                            msg.checkout_id, row.id, row.order_id)
    else:
        # orders cancelled (e.g. in Review): their committed coverage stops counting as owned
        for row in await store.order_groups(conn, msg.account_id, msg.order_ids):
            if row.status == ReservationStatus.COMMITTED:
                _reservation(row).release_order()
                freed.append(row.id)
    await store.set_status(conn, freed, ReservationStatus.RELEASED.value)
    await rt.outbox.add(conn, CoverageReleased(account_id=msg.account_id, checkout_id=msg.checkout_id))


# ----------------------------------------------------------------------------------------- commit


async def commit(rt: Runtime, conn: asyncpg.Connection, msg: CommitCoverage) -> None:
    await store.lock_account(conn, msg.account_id)
    rows = await store.checkout_groups(conn, msg.account_id, msg.checkout_id)
    by_order: dict[str, list[int]] = {}
    unordered: list[int] = []
    for row in rows:
        order_id = msg.order_ids.get(row.item_id)
        if order_id is None:
            # no order was placed for this item: what it reserved is not bought
            if row.status == ReservationStatus.RESERVED:
                _reservation(row).release()
                unordered.append(row.id)
            continue
        if row.status == ReservationStatus.COMMITTED and row.order_id == order_id:
            continue  # a re-sent commit
        try:
            _reservation(row).commit()
        except IllegalReservationTransition as exc:
            raise Reject(f"CommitCoverage of checkout {msg.checkout_id}, item {row.item_id}: {exc}") from None
        by_order.setdefault(order_id, []).append(row.id)
    for order_id, ids in by_order.items():
        await store.set_status(conn, ids, ReservationStatus.COMMITTED.value, order_id)
    await store.set_status(conn, unordered, ReservationStatus.RELEASED.value)
    await rt.outbox.add(conn, CoverageCommitted(account_id=msg.account_id, checkout_id=msg.checkout_id))


# ---------------------------------------------------------------------------------- reading coverage


async def preview(rt: Runtime, key: LedgerKey, cells: Sequence[CellId], dates: DateSet) -> Deduplication:
    """Which (cell, date) pairs of a proposed grid item the ledger key already holds (committed orders
    and live reservations); nothing is held."""
    async with rt.pool.acquire() as conn:
        ledger = await load_ledger(conn, key, families_of(cells))
    return await asyncio.to_thread(deduplicate, cells, dates, ledger)


async def coverage_map(rt: Runtime, account: str, families: Sequence[int], model: str | None) -> list[MapCell]:
    """The account's owned (committed) and reserved cells in these tile families, merged per cell."""
    async with rt.pool.acquire() as conn:
        groups = await store.viewport_groups(conn, account, families, model)
    return map_cells(groups, families)


# --------------------------------------------------------------------------------------------- AOI


async def aoi_geometry(rt: Runtime, source: str, value: Any, authorization: str | None) -> BaseGeometry:
    """The AOI given as ``source`` (wkt, geojson, aoi_id or bbox): imported and validated as the AOI
    service would, or a stored AOI read from it as the caller. Problem 422 saying why it is unusable."""
    if source == "bbox":
        try:
            return bbox_geometry(value)
        except InvalidBbox as exc:
            raise Problem(422, exc.code, str(exc)) from None
    if source == "aoi_id":
        return await peers.stored_aoi_geometry(rt, value, authorization)
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        imported = await asyncio.to_thread(import_aoi, text)
    except AoiError as exc:
        raise Problem(exc.status, exc.code, f"{source}: {exc.message}", where=exc.where) from None
    return imported.geometry
