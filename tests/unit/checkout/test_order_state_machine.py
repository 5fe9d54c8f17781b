"""The order state machine (docs/domain.md, Cart, checkout and orders) and the cancellation rules."""
import pytest

from services.checkout.domain.orders import (
    TRANSITIONS,
    IllegalOrderTransition,
    cancel_decision,
    parse_status,
    transition,
)
from services.checkout.domain.orders import (
    OrderStatus as S,
)


@pytest.mark.parametrize("path, recurring", [
    ([S.REVIEW, S.PREPARING, S.AWAITING, S.PROCESSING, S.COMPLETED], False),
    ([S.REVIEW, S.PREPARING, S.AWAITING, S.PREDICTING, S.COMPLETED], False),
    ([S.REVIEW, S.PREPARING, S.AWAITING, S.PROCESSING_PREDICTING, S.COMPLETED], False),
    ([S.PREPARING, S.AWAITING, S.PROCESSING, S.UP_TO_DATE, S.AWAITING, S.PREDICTING, S.UP_TO_DATE], True),
    ([S.UP_TO_DATE, S.COMPLETED], True),
])
def test_the_documented_lifecycles_are_legal(path, recurring):
    status = path[0]
    for nxt in path[1:]:
        status = transition(status, nxt, recurring=recurring)
    assert status == path[-1]


@pytest.mark.parametrize("current, target", [
    (S.REVIEW, S.PROCESSING),            # skips Preparing and Awaiting
    (S.COMPLETED, S.PROCESSING),         # Completed is terminal
    (S.CANCELED, S.PREPARING),           # Canceled is terminal
    (S.AWAITING, S.COMPLETED),           # nothing was processed
    (S.PREPARING, S.REVIEW),             # no way back
])
def test_illegal_moves_raise_naming_both_ends(current, target):
    with pytest.raises(IllegalOrderTransition) as err:
        transition(current, target, recurring=False)
    assert str(current) in str(err.value) and str(target) in str(err.value)


def test_a_fixed_window_is_completed_and_never_up_to_date():
    with pytest.raises(IllegalOrderTransition, match="only recurring"):
        transition(S.PROCESSING, S.UP_TO_DATE, recurring=False)


def test_a_recurring_order_is_up_to_date_before_it_can_complete():
    with pytest.raises(IllegalOrderTransition, match="recurring order becomes UpToDate"):
        transition(S.PROCESSING, S.COMPLETED, recurring=True)


def test_production_cannot_cancel_an_order():
    for status in TRANSITIONS:
        with pytest.raises(IllegalOrderTransition):
            transition(status, S.CANCELED, recurring=False)


def test_an_unknown_status_name_is_refused_with_the_known_names():
    with pytest.raises(IllegalOrderTransition, match="unknown order status 'Done'.*Review"):
        parse_status("Done")


def test_status_names_are_exactly_the_documented_ones():
    assert [s.value for s in S] == ["Review", "Preparing", "AwaitingSatelliteProducts", "Processing", "Predicting",
                                    "ProcessingPredicting", "Completed", "UpToDate", "Canceled"]


@pytest.mark.parametrize("status, recurring, stopped, kind", [
    (S.REVIEW, False, False, "full"),
    (S.REVIEW, True, False, "full"),
    (S.PREPARING, True, False, "stop_renewal"),
    (S.UP_TO_DATE, True, False, "stop_renewal"),
    (S.UP_TO_DATE, True, True, "refused"),        # already stopped
    (S.PREPARING, False, False, "refused"),       # a fixed window after Review
    (S.COMPLETED, True, False, "refused"),
    (S.CANCELED, False, False, "refused"),
])
def test_cancel_is_full_only_in_review_and_afterwards_only_stops_a_renewal(status, recurring, stopped, kind):
    decision = cancel_decision(status, recurring=recurring, renewal_stopped=stopped)
    assert decision.kind == kind
    assert (decision.reason != "") == (kind == "refused")
