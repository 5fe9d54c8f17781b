"""Tile deduplication over a compact coverage ledger (docs/domain.md, Deduplication).

Rules (our decisions, binding):

* the unit is (cell, image date);
* a requested minitile-date is owned when that minitile or its parent tile was ordered for that
  date; a requested tile-date is owned only when the whole tile was ordered for that date;
* owned pairs are removed; a tile partly owned (some of its minitiles owned on a date it is bought
  for) is kept whole, with a warning naming how many of its minitiles are owned;
* only earlier grid orders (and live reservations) of the same account, model and constellation
  set count: that triple is the ``LedgerKey``, and each key has its own ledger.

Representation: coverage is held as *groups* - an array of cell keys sharing one ``DateSet``.  An
order item normally is one group (its cells x its schedule), so a year of daily dates over
thousands of minitiles is one row of a few kilobytes, not millions of (cell, date) rows.  A
``CoverageLedger`` indexes its groups by cell key (sorted numpy arrays, searched with
``searchsorted``); a tile and its minitiles are one key range (``CellId.family``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from services.tiling.domain.dates import DateSet
from shared.grid import CellId, cell_from_key

_MINITILE_BIT = 1 << 8


@dataclass(frozen=True, slots=True)
class LedgerKey:
    """Deduplication compares only within one account, model and constellation set."""

    account: str
    model: str
    constellations: frozenset[str]

    @classmethod
    def of(cls, account: str, model: str, constellations: Iterable[str]) -> LedgerKey:
        return cls(str(account), str(model), frozenset(str(c) for c in constellations))


@dataclass(frozen=True, eq=False)
class CoverageGroup:
    """Cells (sorted unique ``CellId.key`` values, int64) that share one set of dates."""

    cells: np.ndarray
    dates: DateSet

    @classmethod
    def of(cls, cells: Iterable[CellId], dates: DateSet) -> CoverageGroup:
        keys = np.unique(np.fromiter((c.key for c in cells), dtype=np.int64))
        return cls(keys, dates)

    @property
    def pairs(self) -> int:
        return len(self.cells) * len(self.dates)

    def cell_ids(self) -> list[CellId]:
        return [cell_from_key(int(k)) for k in self.cells]


class CoverageLedger:
    """The coverage one ledger key holds: groups per holding (a reservation or an order).

    Pure and in memory; a database adapter loads the groups touching the requested tile families
    into one of these and runs ``deduplicate`` over it.
    """

    _MAX_SEGMENTS = 8

    def __init__(self) -> None:
        self._holdings: dict[str, list[int]] = {}
        self._dates: list[DateSet] = []
        self._alive: list[bool] = []
        self._cells: list[np.ndarray] = []
        # each segment: (sorted cell keys, group id per key)
        self._segments: list[tuple[np.ndarray, np.ndarray]] = []

    # -- writes ------------------------------------------------------------------------------------
    def hold(self, holding_id: str, groups: Iterable[CoverageGroup]) -> None:
        """Record a holding's coverage (a reservation counts as owned from this moment)."""
        if holding_id in self._holdings:
            raise ValueError(f"holding {holding_id} is already recorded in this ledger")
        ids, keys, gids = [], [], []
        for g in groups:
            gid = len(self._dates)
            self._dates.append(g.dates)
            self._alive.append(True)
            self._cells.append(g.cells)
            ids.append(gid)
            keys.append(g.cells)
            gids.append(np.full(len(g.cells), gid, dtype=np.int64))
        self._holdings[holding_id] = ids
        if keys:
            k = np.concatenate(keys)
            order = np.argsort(k, kind="stable")
            self._segments.append((k[order], np.concatenate(gids)[order]))
            # log-structured merging: a new segment merges with older ones of similar size, so
            # the index stays a few sorted arrays at O(n log n) total cost
            while len(self._segments) > 1 and len(self._segments[-1][0]) * 2 >= len(self._segments[-2][0]):
                self._merge_last_two()
            if len(self._segments) > self._MAX_SEGMENTS:
                self._compact()

    def drop(self, holding_id: str) -> None:
        """Forget a holding (a released reservation, a cancelled order)."""
        for gid in self._holdings.pop(holding_id, ()):
            self._alive[gid] = False

    def _merge_last_two(self) -> None:
        (k1, g1), (k2, g2) = self._segments[-2], self._segments[-1]
        k, g = np.concatenate([k1, k2]), np.concatenate([g1, g2])
        order = np.argsort(k, kind="stable")
        self._segments[-2:] = [(k[order], g[order])]

    def _compact(self) -> None:
        k = np.concatenate([s[0] for s in self._segments])
        g = np.concatenate([s[1] for s in self._segments])
        alive = np.asarray(self._alive)[g]
        k, g = k[alive], g[alive]
        order = np.argsort(k, kind="stable")
        self._segments = [(k[order], g[order])]

    # -- reads -------------------------------------------------------------------------------------
    @property
    def holdings(self) -> tuple[str, ...]:
        return tuple(self._holdings)

    def holding_groups(self, holding_id: str) -> list[CoverageGroup]:
        return [CoverageGroup(self._cells[g], self._dates[g]) for g in self._holdings.get(holding_id, ())]

    def owned_cells(self) -> int:
        """Number of (cell, group) entries held, for figures."""
        return sum(len(c) for c, a in zip(self._cells, self._alive, strict=True) if a)

    def _ranges(
        self, lo_keys: np.ndarray, hi_keys: np.ndarray
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """For each query i and segment: the slice of entries with lo <= key <= hi."""
        for keys, gids in self._segments:
            lo = np.searchsorted(keys, lo_keys, side="left")
            hi = np.searchsorted(keys, hi_keys, side="right")
            yield keys, gids, lo, hi

    def dates_of(self, keys: np.ndarray) -> list[DateSet]:
        """Union of the held dates of each exact cell key."""
        keys = np.asarray(keys, dtype=np.int64)
        out = [DateSet()] * len(keys)
        alive, dates = self._alive, self._dates
        for _, gids, lo, hi in self._ranges(keys, keys):
            for i in np.flatnonzero(hi > lo).tolist():
                acc = out[i]
                for g in gids[lo[i] : hi[i]].tolist():
                    if alive[g]:
                        acc = acc | dates[g]
                out[i] = acc
        return out

    def group_dates(self, gid: int) -> DateSet:
        return self._dates[gid]

    def minitile_entries(self, tile_key: int) -> tuple[np.ndarray, np.ndarray]:
        """``(minitile keys, group ids)`` of every live entry held for the minitiles of one tile."""
        base = (tile_key >> 9) << 9
        lo_q = np.array([base | _MINITILE_BIT], dtype=np.int64)
        hi_q = np.array([base | 0x1FF], dtype=np.int64)
        keys_out, gids_out = [], []
        alive = np.asarray(self._alive)
        for keys, gids, lo, hi in self._ranges(lo_q, hi_q):
            if hi[0] > lo[0]:
                k, g = keys[lo[0] : hi[0]], gids[lo[0] : hi[0]]
                live = alive[g]
                keys_out.append(k[live])
                gids_out.append(g[live])
        if not keys_out:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        return np.concatenate(keys_out), np.concatenate(gids_out)

    def minitile_dates(self, tile_key: int) -> dict[int, DateSet]:
        """Held dates of each minitile (by ``CellId.key``) of one tile."""
        base = (tile_key >> 9) << 9
        lo_q = np.array([base | _MINITILE_BIT], dtype=np.int64)
        hi_q = np.array([base | 0x1FF], dtype=np.int64)
        out: dict[int, DateSet] = defaultdict(DateSet)
        for keys, gids, lo, hi in self._ranges(lo_q, hi_q):
            for k, g in zip(keys[lo[0] : hi[0]].tolist(), gids[lo[0] : hi[0]].tolist(), strict=True):
                if self._alive[g]:
                    out[k] = out[k] | self._dates[g]
        return dict(out)


@dataclass(frozen=True, slots=True)
class CellOutcome:
    cell: CellId
    owned: DateSet  # requested dates already owned (removed from the order)
    to_buy: DateSet


@dataclass(frozen=True, slots=True)
class PartlyOwnedTile:
    """A tile bought whole although some of its minitiles are already owned on some of its dates."""

    tile: CellId
    owned_minitiles: int  # minitiles owned on at least one of the dates the tile is bought for
    dates: int  # how many of the tile's bought dates have at least one owned minitile

    @property
    def message(self) -> str:
        return (
            f"tile {self.tile.code} is bought whole although {self.owned_minitiles} of its minitiles "
            f"are already owned on {self.dates} of its dates (a tile-date is only owned as a whole tile)"
        )


@dataclass(frozen=True)
class Deduplication:
    requested: DateSet
    outcomes: tuple[CellOutcome, ...]
    warnings: tuple[PartlyOwnedTile, ...] = field(default=())

    @property
    def requested_pairs(self) -> int:
        return len(self.outcomes) * len(self.requested)

    @property
    def owned_pairs(self) -> int:
        return sum(len(o.owned) for o in self.outcomes)

    @property
    def to_buy_pairs(self) -> int:
        return sum(len(o.to_buy) for o in self.outcomes)

    def to_buy_groups(self) -> list[CoverageGroup]:
        """What remains to buy, as compact groups (cells sharing the same remaining dates)."""
        by_dates: dict[DateSet, list[int]] = defaultdict(list)
        for o in self.outcomes:
            if o.to_buy:
                by_dates[o.to_buy].append(o.cell.key)
        return [CoverageGroup(np.unique(np.asarray(k, dtype=np.int64)), d) for d, k in by_dates.items()]


def no_deduplication(cells: Iterable[CellId], dates: DateSet) -> Deduplication:
    """Everything requested is bought (tile deduplication switched off)."""
    unique = sorted(set(cells), key=lambda c: c.key)
    return Deduplication(dates, tuple(CellOutcome(c, DateSet(), dates) for c in unique))


def deduplicate(cells: Iterable[CellId], dates: DateSet, ledger: CoverageLedger) -> Deduplication:
    """Remove the (cell, date) pairs ``ledger`` already holds from a grid request.

    ``cells``: the request's tiles and minitiles (a normalised selection); ``dates``: its image
    dates.  Cost: a few ``searchsorted`` calls plus big-int operations per requested cell.
    """
    unique = sorted(set(cells), key=lambda c: c.key)
    if not unique or not dates:
        return Deduplication(dates, tuple(CellOutcome(c, DateSet(), dates) for c in unique))
    keys = np.fromiter((c.key for c in unique), dtype=np.int64, count=len(unique))
    is_mini = (keys & _MINITILE_BIT) != 0
    parent_keys = (keys >> 9) << 9
    # one lookup for the cells themselves and the parents of the minitiles
    lookup = np.concatenate([keys, parent_keys[is_mini]])
    held = ledger.dates_of(lookup)
    own, parents = held[: len(keys)], iter(held[len(keys) :])

    outcomes: list[CellOutcome] = []
    warnings: list[PartlyOwnedTile] = []
    # groups are shared by many minitiles: intersect each group's dates with a tile's remaining
    # dates once per call, not once per minitile
    memo: dict[tuple[int, DateSet], int] = {}
    for cell, mini, owned in zip(unique, is_mini.tolist(), own, strict=True):
        if mini:
            owned = owned | next(parents)
        owned = dates & owned
        to_buy = dates - owned
        outcomes.append(CellOutcome(cell, owned, to_buy))
        if not mini and to_buy:
            warning = _partly_owned(cell, to_buy, ledger, memo)
            if warning:
                warnings.append(warning)
    return Deduplication(dates, tuple(outcomes), tuple(warnings))


def _partly_owned(
    tile: CellId, to_buy: DateSet, ledger: CoverageLedger, memo: dict[tuple[int, DateSet], int]
) -> PartlyOwnedTile | None:
    """The warning for a tile bought whole while some of its minitiles are owned on its dates."""
    keys, gids = ledger.minitile_entries(tile.key)
    if not len(keys):
        return None
    union = 0  # bitmap relative to to_buy.start (hits are subsets of to_buy)
    hit_groups = []
    for g in np.unique(gids).tolist():
        k = (g, to_buy)
        hit = memo.get(k)
        if hit is None:
            h = ledger.group_dates(g) & to_buy
            hit = memo[k] = h.bits << (h.start - to_buy.start) if h else 0
        if hit:
            hit_groups.append(g)
            union |= hit
    if not hit_groups:
        return None
    owned_minitiles = len(np.unique(keys[np.isin(gids, hit_groups)]))
    return PartlyOwnedTile(tile, owned_minitiles=owned_minitiles, dates=union.bit_count())
