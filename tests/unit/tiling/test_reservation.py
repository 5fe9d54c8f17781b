"""Reservation lifecycle: reserved -> committed | released; anything else is a domain error. What a
reservation holds in the ledger is tested through the use cases and Postgres (tests/integration/tiling)."""

from datetime import date

import pytest

from services.tiling.domain import (
    TRANSITIONS,
    CoverageGroup,
    CoverageReservation,
    DateSet,
    IllegalReservationTransition,
    LedgerKey,
    ReservationCommitted,
    ReservationReleased,
    ReservationStatus,
)

from .helpers import TILE

KEY = LedgerKey.of("acct-1", "Nimbus", ["Sentinel2"])
DATES = DateSet.of([date(2025, 4, 1)])


def reserved() -> CoverageReservation:
    return CoverageReservation("r1", KEY, (CoverageGroup.of([TILE], DATES),))


def test_the_transition_table():
    assert TRANSITIONS == {
        ReservationStatus.RESERVED: {ReservationStatus.COMMITTED, ReservationStatus.RELEASED},
        ReservationStatus.COMMITTED: {ReservationStatus.RELEASED},
        ReservationStatus.RELEASED: set(),
    }


def test_a_new_reservation_is_reserved():
    r = reserved()
    assert r.status is ReservationStatus.RESERVED
    assert r.events == []


def test_commit_a_reservation():
    r = reserved()
    r.commit()
    assert r.status is ReservationStatus.COMMITTED
    assert r.events[-1] == ReservationCommitted("r1")


def test_release_a_reservation():
    r = reserved()
    r.release()
    assert r.status is ReservationStatus.RELEASED
    assert r.events[-1] == ReservationReleased("r1")


@pytest.mark.parametrize(
    "first, second",
    [("commit", "release"), ("release", "commit"), ("commit", "commit"), ("release", "release")],
)
def test_illegal_moves_raise(first, second):
    r = reserved()
    getattr(r, first)()
    with pytest.raises(IllegalReservationTransition) as e:
        getattr(r, second)()
    assert e.value.code == "illegal_reservation_transition"
    assert "r1" in str(e.value)


def test_a_cancelled_order_releases_its_committed_coverage():
    r = reserved()
    r.commit()
    r.release_order()
    assert r.status is ReservationStatus.RELEASED
    assert r.events[-1] == ReservationReleased("r1")


def test_release_order_of_a_reservation_not_committed_raises():
    r = reserved()
    with pytest.raises(IllegalReservationTransition):
        r.release_order()
