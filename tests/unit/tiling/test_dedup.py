"""Deduplication scenarios from docs/domain.md, Deduplication (unit: cell x image date), over one ledger.
Which ledger counts (account, model, constellation set) and how reservations hold and free coverage is
tested through the use cases and Postgres (tests/integration/tiling/test_ledger.py)."""

from datetime import date

import numpy as np

from services.tiling.domain import (
    CoverageGroup,
    CoverageLedger,
    DateSet,
    deduplicate,
)

from .helpers import TILE

APRIL = DateSet.every(date(2025, 4, 1), date(2025, 4, 30))  # 30 daily dates


def ledger_with(*holdings):
    ledger = CoverageLedger()
    for i, (cells, dates) in enumerate(holdings):
        ledger.hold(f"order-{i}", [CoverageGroup.of(cells, dates)])
    return ledger


def test_nothing_owned_buys_every_pair():
    result = deduplicate([TILE, TILE.minitile_at(0)], APRIL, CoverageLedger())
    assert result.requested_pairs == 60
    assert result.owned_pairs == 0
    assert result.to_buy_pairs == 60


def test_minitile_date_owned_when_that_minitile_was_ordered_for_that_date():
    ledger = ledger_with(([TILE.minitile_at(5)], DateSet.every(date(2025, 4, 1), date(2025, 4, 10))))
    (out,) = deduplicate([TILE.minitile_at(5)], APRIL, ledger).outcomes
    assert len(out.owned) == 10
    assert out.to_buy == DateSet.every(date(2025, 4, 11), date(2025, 4, 30))


def test_minitile_date_owned_when_its_parent_tile_was_ordered_for_that_date():
    ledger = ledger_with(([TILE], DateSet.of([date(2025, 4, 3), date(2025, 4, 4)])))
    (out,) = deduplicate([TILE.minitile_at(200)], APRIL, ledger).outcomes
    assert out.owned.dates() == [date(2025, 4, 3), date(2025, 4, 4)]
    assert len(out.to_buy) == 28


def test_owned_on_other_dates_is_not_owned():
    ledger = ledger_with(([TILE.minitile_at(5)], DateSet.every(date(2025, 5, 1), date(2025, 5, 31))))
    (out,) = deduplicate([TILE.minitile_at(5)], APRIL, ledger).outcomes
    assert not out.owned


def test_tile_date_owned_only_when_the_whole_tile_was_ordered():
    ledger = ledger_with(([TILE], DateSet.every(date(2025, 4, 1), date(2025, 4, 15))))
    result = deduplicate([TILE], APRIL, ledger)
    assert result.owned_pairs == 15
    assert result.to_buy_pairs == 15
    assert result.warnings == ()


def test_partly_owned_tile_is_kept_whole_with_a_warning_naming_the_owned_minitiles():
    # three minitiles owned on April 1-2, a fourth one only in May (not a requested date)
    ledger = ledger_with(
        ([TILE.minitile_at(i) for i in (0, 1, 2)], DateSet.of([date(2025, 4, 1), date(2025, 4, 2)])),
        ([TILE.minitile_at(3)], DateSet.of([date(2025, 5, 1)])),
    )
    result = deduplicate([TILE], APRIL, ledger)
    (out,) = result.outcomes
    assert not out.owned
    assert out.to_buy == APRIL
    (warning,) = result.warnings
    assert warning.tile == TILE
    assert warning.owned_minitiles == 3
    assert warning.dates == 2
    assert "3 of its minitiles" in warning.message


def test_all_256_minitiles_owned_still_does_not_own_the_tile():
    ledger = ledger_with(([TILE.minitile_at(i) for i in range(256)], APRIL))
    result = deduplicate([TILE], APRIL, ledger)
    assert result.to_buy_pairs == 30
    assert result.warnings[0].owned_minitiles == 256


def test_what_remains_is_stored_as_few_groups_not_one_row_per_pair():
    cells = [TILE.minitile_at(i) for i in range(256)]
    year = DateSet.every(date(2025, 1, 1), date(2025, 12, 31))
    ledger = ledger_with(([TILE.minitile_at(0)], DateSet.of([date(2025, 6, 1)])))
    groups = deduplicate(cells, year, ledger).to_buy_groups()
    # 255 minitiles need all 365 dates, one needs 364: two groups
    assert sorted((len(g.cells), len(g.dates)) for g in groups) == [(1, 364), (255, 365)]
    assert sum(g.pairs for g in groups) == 255 * 365 + 364


def test_ledger_with_many_segments_still_answers_after_compaction():
    ledger = CoverageLedger()
    for i in range(20):
        ledger.hold(f"o{i}", [CoverageGroup(np.array([TILE.minitile_at(i).key], dtype=np.int64), APRIL)])
    ledger.drop("o3")
    result = deduplicate([TILE.minitile_at(i) for i in range(20)], APRIL, ledger)
    owned = {o.cell.minitile for o in result.outcomes if o.owned}
    assert owned == set(range(20)) - {3}
