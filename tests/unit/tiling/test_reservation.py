"""Reservation lifecycle: reserved -> committed | released; anything else is a domain error."""

from datetime import date

import pytest

from services.tiling.domain import (
    TRANSITIONS,
    CoverageBook,
    DateSet,
    IllegalReservationTransition,
    LedgerKey,
    ReservationCommitted,
    ReservationHeld,
    ReservationReleased,
    ReservationStatus,
)

from .helpers import TILE

KEY = LedgerKey.of("acct-1", "Nimbus", ["Sentinel2"])
DATES = DateSet.of([date(2025, 4, 1)])


def reserved():
    book = CoverageBook()
    reservation, _ = book.reserve("r1", KEY, [TILE], DATES, tile_deduplication=True)
    return book, reservation


def test_the_transition_table():
    assert TRANSITIONS == {
        ReservationStatus.RESERVED: {ReservationStatus.COMMITTED, ReservationStatus.RELEASED},
        ReservationStatus.COMMITTED: {ReservationStatus.RELEASED},
        ReservationStatus.RELEASED: set(),
    }


def test_a_new_reservation_is_reserved_and_says_so():
    _, r = reserved()
    assert r.status is ReservationStatus.RESERVED
    assert r.events == [ReservationHeld("r1", to_buy_pairs=1, owned_pairs=0)]


def test_commit_a_reservation():
    book, r = reserved()
    book.commit(r)
    assert r.status is ReservationStatus.COMMITTED
    assert r.events[-1] == ReservationCommitted("r1")
    assert book.preview(KEY, [TILE], DATES).owned_pairs == 1


def test_release_a_reservation():
    book, r = reserved()
    book.release(r)
    assert r.status is ReservationStatus.RELEASED
    assert r.events[-1] == ReservationReleased("r1")


@pytest.mark.parametrize(
    "first, second",
    [("commit", "release"), ("release", "commit"), ("commit", "commit"), ("release", "release")],
)
def test_illegal_moves_raise(first, second):
    book, r = reserved()
    getattr(book, first)(r)
    with pytest.raises(IllegalReservationTransition) as e:
        getattr(book, second)(r)
    assert e.value.code == "illegal_reservation_transition"
    assert "r1" in str(e.value)


def test_a_cancelled_order_releases_its_committed_coverage():
    book, r = reserved()
    book.commit(r)
    book.release_order(r)
    assert r.status is ReservationStatus.RELEASED
    assert r.events[-1] == ReservationReleased("r1")
    assert book.preview(KEY, [TILE], DATES).owned_pairs == 0


def test_release_order_of_a_reservation_not_committed_raises():
    book, r = reserved()
    with pytest.raises(IllegalReservationTransition):
        book.release_order(r)
