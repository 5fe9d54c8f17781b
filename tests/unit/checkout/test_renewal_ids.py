from services.checkout.handlers.renewals import parse_renewal_id, renewal_id

ORDER = "3f1c2a4e-1111-4222-8333-944455556666"


def test_a_renewal_id_round_trips_with_and_without_an_attempt():
    assert renewal_id(ORDER, "2026-12") == f"renewal:{ORDER}:2026-12"
    assert parse_renewal_id(renewal_id(ORDER, "2026-12")) == (ORDER, "2026-12", 0)
    assert parse_renewal_id(renewal_id(ORDER, "2026-12", 3)) == (ORDER, "2026-12", 3)


def test_anything_else_is_not_a_renewal_id():
    for other in ("co-1", f"renewal:{ORDER}", "renewal:not-a-uuid:2026-12", f"renewal:{ORDER}:2026-13",
                  f"renewal:{ORDER}:2026-12:x", f"refund:{ORDER}:2026-12", str(ORDER)):
        assert parse_renewal_id(other) is None, other
