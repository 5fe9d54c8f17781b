"""How pricing reads checkout's renewal ids when settling provisional spend (pure)."""
from services.pricing.saga import _renewal, _renewed_key

ORDER = "8a1f3c9e-6d0b-4f7e-9a51-2c3d4e5f6a7b"


def test_a_renewal_id_gives_its_base_and_attempt():
    assert _renewal(f"renewal:{ORDER}:2025-04") == (f"renewal:{ORDER}:2025-04", 0)
    assert _renewal(f"renewal:{ORDER}:2025-04:2") == (f"renewal:{ORDER}:2025-04", 2)


def test_other_checkout_ids_are_not_renewals():
    assert _renewal("3f0c2a51-1111-4222-8333-944455556666") is None
    assert _renewal(f"renewal:{ORDER}:2025-04:x") is None
    assert _renewal(f"renewal:{ORDER}") is None


def test_the_renewed_tombstone_differs_from_attempt_zero():
    # a failed attempt 0 tombstones renewal:<order>:<month> itself; that must not block attempt 1
    assert _renewed_key(f"renewal:{ORDER}:2025-04") == f"renewed:{ORDER}:2025-04"
