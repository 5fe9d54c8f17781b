"""Resolve a mixed list of tile and minitile GUIDs into a normalised grid selection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from services.tiling.domain.errors import InvalidSelection, SelectionProblem
from shared.grid import CellId, GridError, cell_area_km2, parse_cell


@dataclass(frozen=True, slots=True)
class SelectionWarning:
    code: str  # "duplicates_removed" | "minitiles_folded_into_tile"
    message: str
    cell: str | None = None  # the tile's code for a fold
    count: int = 0


@dataclass(frozen=True)
class Selection:
    """A normalised grid selection: no duplicates, no minitile whose tile is also selected.

    Cells are sorted by key (zone, hemisphere, column, row, minitile).
    """

    tiles: tuple[CellId, ...]
    minitiles: tuple[CellId, ...]
    tiles_km2: float
    minitiles_km2: float
    warnings: tuple[SelectionWarning, ...]

    @property
    def total_km2(self) -> float:
        return self.tiles_km2 + self.minitiles_km2

    @property
    def cells(self) -> tuple[CellId, ...]:
        return self.tiles + self.minitiles


def resolve_selection(guids: Iterable[str]) -> Selection:
    """Normalise a mixed list of tile/minitile GUIDs (readable codes are accepted too).

    Duplicates are removed (one warning with the count); minitiles whose parent tile is selected
    are folded into it (a warning per tile naming how many).  Every unreadable entry is reported
    at once in ``InvalidSelection``.
    """
    cells: list[CellId] = []
    problems: list[SelectionProblem] = []
    for i, g in enumerate(guids):
        try:
            cells.append(parse_cell(g))
        except GridError as e:
            problems.append(SelectionProblem(i, str(g), e.code.value, e.message))
    if problems:
        raise InvalidSelection(problems)

    warnings: list[SelectionWarning] = []
    unique = list(dict.fromkeys(cells))
    if len(unique) < len(cells):
        n = len(cells) - len(unique)
        warnings.append(SelectionWarning("duplicates_removed", f"{n} duplicate cell(s) removed", count=n))
    tiles = sorted((c for c in unique if c.is_tile), key=lambda c: c.key)
    tile_set = set(tiles)
    folded = Counter(c.parent for c in unique if not c.is_tile and c.parent in tile_set)
    for tile in tiles:
        if folded[tile]:
            warnings.append(
                SelectionWarning(
                    "minitiles_folded_into_tile",
                    f"{folded[tile]} minitile(s) of {tile.code} dropped: the whole tile is selected",
                    cell=tile.code,
                    count=folded[tile],
                )
            )
    minitiles = sorted((c for c in unique if not c.is_tile and c.parent not in tile_set), key=lambda c: c.key)
    return Selection(
        tiles=tuple(tiles),
        minitiles=tuple(minitiles),
        tiles_km2=sum(cell_area_km2(c) for c in tiles),
        minitiles_km2=sum(cell_area_km2(c) for c in minitiles),
        warnings=tuple(warnings),
    )
