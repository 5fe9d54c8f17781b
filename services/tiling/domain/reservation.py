"""Coverage reservations: the checkout saga's hold on (cell, date) pairs.

State machine (one table; an illegal move raises):

    reserved  --commit-->        committed
    reserved  --release-->       released   (saga compensation: the checkout failed)
    committed --release_order--> released   (the order was cancelled, e.g. in Review)

While reserved or committed, the pairs are held in the ledger and count as owned for every later
request of the same ledger key, so two checkouts racing cannot both buy the same pair (the use cases
take an advisory lock per account for that to hold across processes). The ledger itself lives in
Postgres: each transaction loads the groups it needs into a ``CoverageLedger`` and moves a stored
group through this state machine before its status is written back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from services.tiling.domain.dedup import CoverageGroup, LedgerKey
from services.tiling.domain.errors import IllegalReservationTransition


class ReservationStatus(StrEnum):
    RESERVED = "reserved"
    COMMITTED = "committed"
    RELEASED = "released"


TRANSITIONS: dict[ReservationStatus, frozenset[ReservationStatus]] = {
    ReservationStatus.RESERVED: frozenset({ReservationStatus.COMMITTED, ReservationStatus.RELEASED}),
    ReservationStatus.COMMITTED: frozenset({ReservationStatus.RELEASED}),
    ReservationStatus.RELEASED: frozenset(),
}


# The aggregate's own events; named apart from the Coverage* messages (shared/contracts/coverage.py)
# that the service publishes, so each name means one thing.
@dataclass(frozen=True, slots=True)
class ReservationCommitted:
    reservation_id: str


@dataclass(frozen=True, slots=True)
class ReservationReleased:
    reservation_id: str


@dataclass
class CoverageReservation:
    """Aggregate: what one checkout item holds, and where it is in its lifecycle."""

    reservation_id: str
    ledger_key: LedgerKey
    groups: tuple[CoverageGroup, ...]
    status: ReservationStatus = ReservationStatus.RESERVED
    events: list[object] = field(default_factory=list)

    def commit(self) -> None:
        self._move(ReservationStatus.COMMITTED)
        self.events.append(ReservationCommitted(self.reservation_id))

    def release(self) -> None:
        """Saga compensation: only a reservation not yet committed can be released this way."""
        if self.status is not ReservationStatus.RESERVED:
            raise IllegalReservationTransition(self.reservation_id, self.status.value, "released")
        self._move(ReservationStatus.RELEASED)
        self.events.append(ReservationReleased(self.reservation_id))

    def release_order(self) -> None:
        """The order holding this coverage was cancelled: committed coverage is freed."""
        if self.status is not ReservationStatus.COMMITTED:
            raise IllegalReservationTransition(self.reservation_id, self.status.value, "released (order cancelled)")
        self._move(ReservationStatus.RELEASED)
        self.events.append(ReservationReleased(self.reservation_id))

    def _move(self, to: ReservationStatus) -> None:
        if to not in TRANSITIONS[self.status]:
            raise IllegalReservationTransition(self.reservation_id, self.status.value, to.value)
        self.status = to
