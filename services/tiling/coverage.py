"""The coverage ledger as the checkout saga uses it: ReserveCoverage / ReleaseCoverage / CommitCoverage.

Each effect runs inside the inbox transaction (a redelivered message is skipped by the inbox) and
first takes the account's advisory lock, so two reservations of one account are serialised: the
second one loads the first one's groups and finds their pairs owned. A re-sent ReserveCoverage for
a checkout already answered replies the stored answer again; releasing or committing an unknown or
already finished checkout replies the event anyway (nothing left to do).
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import asyncpg

from services.tiling import store
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
from shared.contracts.common import Cell
from shared.contracts.coverage import (
    CommitCoverage,
    CoverageCommitted,
    CoverageOutcome,
    CoverageRejected,
    CoverageReleased,
    CoverageReserved,
    ReleaseCoverage,
    ReserveCoverage,
)
from shared.grid import CellId, GridError, decode_guid
from shared.inbox import Incoming, Reject
from shared.service import Runtime

log = logging.getLogger("tessera.tiling.coverage")

MAX_PROBLEMS_LISTED = 5


def families_of(cells: Iterable[CellId]) -> list[int]:
    """Tile families (key >> 9) of cells: a tile and its minitiles share one."""
    return sorted({c.family for c in cells})


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


@dataclass
class _ParsedItem:
    item_id: str
    key: LedgerKey
    deduplicate: bool
    cells: list[tuple[Cell, CellId]]
    dates: DateSet


def _parse(msg: ReserveCoverage) -> tuple[list[_ParsedItem], list[str]]:
    problems: list[str] = []
    items: list[_ParsedItem] = []
    seen_items: set[str] = set()
    for i, item in enumerate(msg.items):
        if item.item_id in seen_items:
            problems.append(f"items[{i}]: item_id {item.item_id!r} appears twice")
        seen_items.add(item.item_id)
        cells: list[tuple[Cell, CellId]] = []
        for j, c in enumerate(item.cells):
            where = f"items[{i}] ({item.item_id}) cells[{j}]"
            try:
                cell = decode_guid(c.guid)
            except GridError as exc:
                problems.append(f"{where} {c.guid!r}: {exc.message}")
                continue
            level = "tile" if cell.is_tile else "minitile"
            if level != c.level:
                problems.append(f"{where} {c.guid!r}: {cell.code} is a {level}, not a {c.level}")
                continue
            cells.append((c, cell))
        items.append(
            _ParsedItem(item.item_id, LedgerKey.of(msg.account_id, item.model, item.constellations),
                        item.deduplicate, cells, DateSet.of(item.dates))
        )
    return items, problems


def _outcome(item: _ParsedItem, result: Deduplication) -> CoverageOutcome:
    by_key = {o.cell.key: o for o in result.outcomes}
    cells, seen = [], set()
    for given, cell in item.cells:
        if cell.key in seen:
            continue
        seen.add(cell.key)
        owned = by_key[cell.key].owned
        cells.append(Cell(guid=given.guid, level=given.level, area_km2=given.area_km2,
                          excluded_dates=owned.dates()))
    return CoverageOutcome(item_id=item.item_id, cells=cells, owned_pairs=result.owned_pairs,
                           warnings=[w.message for w in result.warnings])


async def reserve(rt: Runtime, conn: asyncpg.Connection, msg: ReserveCoverage) -> CoverageReserved | CoverageRejected:
    await store.lock_account(conn, msg.account_id)
    prior = await store.checkout_reply(conn, msg.account_id, msg.checkout_id)
    if prior is not None:  # a re-sent command: the same answer again
        reply_type = CoverageReserved if prior["outcome"] == "reserved" else CoverageRejected
        reply = reply_type.model_validate(prior["reply"])
        await rt.outbox.add(conn, reply)
        return reply

    items, problems = _parse(msg)
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS_LISTED} more)" if len(problems) > MAX_PROBLEMS_LISTED else ""
        rejected = CoverageRejected(
            account_id=msg.account_id, checkout_id=msg.checkout_id, renewal=msg.renewal, code="invalid_cells",
            reason=f"{len(problems)} problem(s) in the grid items: " + "; ".join(problems[:MAX_PROBLEMS_LISTED]) + more,
        )
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
        outcomes.append(_outcome(item, result))

    reserved = CoverageReserved(account_id=msg.account_id, checkout_id=msg.checkout_id, renewal=msg.renewal,
                                items=outcomes)
    await store.record_checkout(conn, msg.account_id, msg.checkout_id, "reserved", reserved.model_dump(mode="json"))
    await rt.outbox.add(conn, reserved)
    return reserved


def _no_dedup(cells, dates: DateSet, _ledger: CoverageLedger) -> Deduplication:
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


def effects(rt: Runtime) -> dict:
    async def on_reserve(conn: asyncpg.Connection, inc: Incoming) -> None:
        await reserve(rt, conn, inc.message_as(ReserveCoverage))

    async def on_release(conn: asyncpg.Connection, inc: Incoming) -> None:
        await release(rt, conn, inc.message_as(ReleaseCoverage))

    async def on_commit(conn: asyncpg.Connection, inc: Incoming) -> None:
        await commit(rt, conn, inc.message_as(CommitCoverage))

    return {ReserveCoverage.TYPE: on_reserve, ReleaseCoverage.TYPE: on_release, CommitCoverage.TYPE: on_commit}

