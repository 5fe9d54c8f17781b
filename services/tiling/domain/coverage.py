"""The pure side of the coverage ledger's commands and views: which tile families a request touches, a
ReserveCoverage read and checked (every problem named), an item's outcome as the reply states it, and
the cells of the coverage map merged from the groups held in a viewport."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from services.tiling.domain.dates import DateSet
from services.tiling.domain.dedup import Deduplication, LedgerKey
from shared.contracts.common import Cell
from shared.contracts.coverage import CoverageOutcome, ReserveCoverage
from shared.grid import CellId, GridError, decode_guid

MAX_PROBLEMS_LISTED = 5


def families_of(cells: Iterable[CellId]) -> list[int]:
    """Tile families (key >> 9) of cells: a tile and its minitiles share one."""
    return sorted({c.family for c in cells})


def families_of_keys(keys: Iterable[int]) -> list[int]:
    """Tile families of cell keys (as a grid cover lists them)."""
    return sorted({int(k) >> 9 for k in keys})


# ---------------------------------------------------------------------------------------- reserve


@dataclass
class ReserveItem:
    """One grid item of a ReserveCoverage, its cells decoded (as given, and as grid cells)."""

    item_id: str
    key: LedgerKey
    deduplicate: bool
    cells: list[tuple[Cell, CellId]]
    dates: DateSet


def read_reserve(msg: ReserveCoverage) -> tuple[list[ReserveItem], list[str]]:
    """The command's items, and every problem found in them (a repeated item id, an unreadable GUID, a
    cell of the other level than stated); any problem refuses the whole command."""
    problems: list[str] = []
    items: list[ReserveItem] = []
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
            ReserveItem(item.item_id, LedgerKey.of(msg.account_id, item.model, item.constellations),
                        item.deduplicate, cells, DateSet.of(item.dates))
        )
    return items, problems


def rejection_reason(problems: Sequence[str]) -> str:
    """The problems of a refused ReserveCoverage, the first few listed."""
    more = f" (and {len(problems) - MAX_PROBLEMS_LISTED} more)" if len(problems) > MAX_PROBLEMS_LISTED else ""
    return f"{len(problems)} problem(s) in the grid items: " + "; ".join(problems[:MAX_PROBLEMS_LISTED]) + more


def outcome(item: ReserveItem, result: Deduplication) -> CoverageOutcome:
    """An item's cells as given (each once), with the dates already owned listed as excluded."""
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


# --------------------------------------------------------------------------------------- viewport


class HeldGroup(Protocol):
    """A held coverage group as the map needs it (the store's rows are these)."""

    @property
    def cells(self) -> np.ndarray: ...
    @property
    def model(self) -> str: ...
    @property
    def constellations(self) -> str: ...  # stored form: sorted, comma-joined
    @property
    def status(self) -> str: ...
    @property
    def dates(self) -> DateSet: ...
    @property
    def order_id(self) -> str | None: ...
    @property
    def checkout_id(self) -> str: ...


@dataclass
class MapCell:
    """One cell of the coverage map under one model, constellation set and status: the union of the
    dates of every group holding it there, and the orders and checkouts behind them."""

    key: int
    model: str
    constellations: str
    status: str
    dates: DateSet = field(default_factory=DateSet)
    order_ids: set[str] = field(default_factory=set)
    checkout_ids: set[str] = field(default_factory=set)


def map_cells(groups: Iterable[HeldGroup], families: Sequence[int]) -> list[MapCell]:
    """The cells of held groups that lie in these tile families, merged per (cell, model, constellation
    set, status) and sorted so."""
    fam = np.asarray(families, dtype=np.int64)
    merged: dict[tuple[int, str, str, str], MapCell] = {}
    for g in groups:
        inside = g.cells[np.isin(g.cells >> 9, fam)]
        for k in inside.tolist():
            cell = merged.setdefault((k, g.model, g.constellations, g.status),
                                     MapCell(k, g.model, g.constellations, g.status))
            cell.dates = cell.dates | g.dates
            if g.order_id:
                cell.order_ids.add(g.order_id)
            cell.checkout_ids.add(g.checkout_id)
    return [merged[k] for k in sorted(merged)]
