"""Domain errors of the tiling context."""

from __future__ import annotations

from dataclasses import dataclass


class TilingError(Exception):
    """Base of the tiling context's domain errors; ``code`` is stable and machine-readable."""

    code = "tiling_error"


@dataclass(frozen=True, slots=True)
class SelectionProblem:
    """One entry of a grid selection that could not be read."""

    position: int  # index in the list the client sent
    value: str
    code: str  # a GridErrorCode value: malformed, unsupported_version, out_of_grid
    message: str


class InvalidSelection(TilingError):
    """Some GUIDs of a grid selection are malformed or outside the grid; lists every one of them."""

    code = "invalid_selection"

    def __init__(self, problems: list[SelectionProblem]) -> None:
        self.problems = tuple(problems)
        first = "; ".join(f"#{p.position} {p.value!r}: {p.message}" for p in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"{len(self.problems)} grid GUID(s) cannot be used: {first}{more}")


class IllegalReservationTransition(TilingError):
    """A coverage reservation was asked to move in a way its state machine forbids."""

    code = "illegal_reservation_transition"

    def __init__(self, reservation_id: str, current: str, wanted: str) -> None:
        self.reservation_id, self.current, self.wanted = reservation_id, current, wanted
        super().__init__(
            f"reservation {reservation_id} is {current}; it cannot become {wanted} "
            "(only a reserved reservation can be committed or released)"
        )


class InvalidBbox(TilingError):
    """A bounding box (or map viewport) that is not four lon/lat numbers of a non-empty box; says why."""

    code = "invalid_bbox"
