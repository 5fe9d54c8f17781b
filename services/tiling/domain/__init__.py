"""Pure tiling rules: selection resolve, optimise, deduplication and coverage reservations."""

from services.tiling.domain.dates import DateSet
from services.tiling.domain.dedup import (
    CellOutcome,
    CoverageGroup,
    CoverageLedger,
    Deduplication,
    LedgerKey,
    PartlyOwnedTile,
    deduplicate,
    no_deduplication,
)
from services.tiling.domain.errors import (
    IllegalReservationTransition,
    InvalidSelection,
    SelectionProblem,
    TilingError,
)
from services.tiling.domain.optimise import (
    MINITILE_FACTOR,
    POLYGON_FACTOR,
    TILE_FACTOR,
    OptimisedCover,
    TileChoice,
    optimise,
)
from services.tiling.domain.reservation import (
    TRANSITIONS,
    CoverageReservation,
    ReservationCommitted,
    ReservationReleased,
    ReservationStatus,
)
from services.tiling.domain.selection import Selection, SelectionWarning, resolve_selection

__all__ = [
    "MINITILE_FACTOR",
    "POLYGON_FACTOR",
    "TILE_FACTOR",
    "TRANSITIONS",
    "CellOutcome",
    "ReservationCommitted",
    "CoverageGroup",
    "CoverageLedger",
    "ReservationReleased",
    "CoverageReservation",
    "DateSet",
    "Deduplication",
    "IllegalReservationTransition",
    "InvalidSelection",
    "LedgerKey",
    "OptimisedCover",
    "PartlyOwnedTile",
    "ReservationStatus",
    "Selection",
    "SelectionProblem",
    "SelectionWarning",
    "TileChoice",
    "TilingError",
    "deduplicate",
    "no_deduplication",
    "optimise",
    "resolve_selection",
]
