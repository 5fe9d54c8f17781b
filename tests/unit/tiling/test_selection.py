"""Resolve a mixed list of tile and minitile GUIDs (POST /v1/tiles/resolve)."""

import pytest

from services.tiling.domain import InvalidSelection, resolve_selection
from shared.grid import CellId

from .helpers import TILE

OTHER = CellId(33, False, 11, 100)


def test_duplicates_are_removed_with_a_warning():
    sel = resolve_selection([TILE.guid, TILE.guid, OTHER.minitile_at(3).guid, OTHER.minitile_at(3).guid])
    assert sel.tiles == (TILE,)
    assert sel.minitiles == (OTHER.minitile_at(3),)
    assert [(w.code, w.count) for w in sel.warnings] == [("duplicates_removed", 2)]


def test_minitiles_of_a_selected_tile_are_folded_in_with_a_warning():
    sel = resolve_selection([TILE.minitile_at(1).guid, TILE.guid, TILE.minitile_at(200).guid,
                             OTHER.minitile_at(5).guid])
    assert sel.tiles == (TILE,)
    assert sel.minitiles == (OTHER.minitile_at(5),)
    fold = [w for w in sel.warnings if w.code == "minitiles_folded_into_tile"]
    assert len(fold) == 1
    assert fold[0].cell == "33N-C0010-R0100"
    assert fold[0].count == 2
    assert "2 minitile" in fold[0].message


def test_areas_of_a_selection():
    # one whole tile (2,621.44 km²) and three whole minitiles (3 x 10.24 km²)
    sel = resolve_selection([TILE.guid] + [OTHER.minitile_at(i).guid for i in (0, 1, 2)])
    assert sel.tiles_km2 == pytest.approx(2621.44)
    assert sel.minitiles_km2 == pytest.approx(30.72)
    assert sel.total_km2 == pytest.approx(2652.16)


def test_readable_codes_are_accepted_too():
    sel = resolve_selection(["33N-C0010-R0100", OTHER.minitile_at(7).code])
    assert sel.cells == (TILE, OTHER.minitile_at(7))


def test_every_unreadable_entry_is_reported():
    outside = CellId(33, False, 0, 100).guid  # E 0..51 km: west of the band
    with pytest.raises(InvalidSelection) as e:
        resolve_selection([TILE.guid, "nonsense", outside])
    problems = e.value.problems
    assert [(p.position, p.code) for p in problems] == [(1, "malformed"), (2, "out_of_grid")]
