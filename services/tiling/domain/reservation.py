"""Coverage reservations: the checkout saga's hold on (cell, date) pairs.

State machine (one table; an illegal move raises):

    reserved  --commit-->        committed
    reserved  --release-->       released   (saga compensation: the checkout failed)
    committed --release_order--> released   (the order was cancelled, e.g. in Review)

While reserved or committed, the pairs are held in the ledger and count as owned for every later
request of the same ledger key, so two checkouts racing cannot both buy the same pair (the
database adapter must serialise reservations per ledger key for that to hold across processes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from services.tiling.domain.dates import DateSet
from services.tiling.domain.dedup import (
    CoverageGroup,
    CoverageLedger,
    Deduplication,
    LedgerKey,
    deduplicate,
    no_deduplication,
)
from services.tiling.domain.errors import IllegalReservationTransition
from shared.grid import CellId


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
class ReservationHeld:
    reservation_id: str
    to_buy_pairs: int
    owned_pairs: int


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


class CoverageBook:
    """All ledgers, one per ledger key; the pure model of the coverage store."""

    def __init__(self) -> None:
        self._ledgers: dict[LedgerKey, CoverageLedger] = {}

    def ledger(self, key: LedgerKey) -> CoverageLedger:
        return self._ledgers.setdefault(key, CoverageLedger())

    def preview(self, key: LedgerKey, cells: Iterable[CellId], dates: DateSet) -> Deduplication:
        """Which pairs of a proposed grid item are already owned (nothing is held)."""
        return deduplicate(cells, dates, self.ledger(key))

    def reserve(
        self,
        reservation_id: str,
        key: LedgerKey,
        cells: Iterable[CellId],
        dates: DateSet,
        *,
        tile_deduplication: bool,
    ) -> tuple[CoverageReservation, Deduplication]:
        """Deduplicate (when asked) and hold what remains to buy under ``reservation_id``.

        Orders without deduplication still hold what they buy: later deduplicating orders of
        the same ledger key treat it as owned.
        """
        ledger = self.ledger(key)
        result = deduplicate(cells, dates, ledger) if tile_deduplication else no_deduplication(cells, dates)
        groups = tuple(result.to_buy_groups())
        ledger.hold(reservation_id, groups)
        reservation = CoverageReservation(reservation_id, key, groups)
        reservation.events.append(ReservationHeld(reservation_id, result.to_buy_pairs, result.owned_pairs))
        return reservation, result

    def commit(self, reservation: CoverageReservation) -> None:
        reservation.commit()

    def release(self, reservation: CoverageReservation) -> None:
        reservation.release()
        self.ledger(reservation.ledger_key).drop(reservation.reservation_id)

    def release_order(self, reservation: CoverageReservation) -> None:
        """A cancelled order's committed coverage stops counting as owned."""
        reservation.release_order()
        self.ledger(reservation.ledger_key).drop(reservation.reservation_id)
