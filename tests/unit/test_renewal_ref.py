"""The renewal reference carried by a renewal's saga messages (shared.contracts.common.Renewal)."""
from shared.contracts.common import Renewal
from shared.contracts.pricing import CheckoutPriced, PriceCheckout

ORDER = "8a1f3c9e-6d0b-4f7e-9a51-2c3d4e5f6a7b"


def test_each_attempt_has_its_own_correlation_id_under_one_base():
    first, retry = Renewal(order_id=ORDER, month="2025-04"), Renewal(order_id=ORDER, month="2025-04", attempt=2)
    assert first.base == retry.base == f"renewal:{ORDER}:2025-04"
    assert (first.checkout_id, retry.checkout_id) == (f"renewal:{ORDER}:2025-04", f"renewal:{ORDER}:2025-04:2")
    assert Renewal.attempt_of(first.checkout_id, first.base) == 0
    assert Renewal.attempt_of(retry.checkout_id, first.base) == 2


def test_ids_of_other_renewals_or_checkouts_have_no_attempt_under_a_base():
    base = Renewal(order_id=ORDER, month="2025-04").base
    for other in (f"renewal:{ORDER}:2025-05", f"renewal:{ORDER}:2025-04:x", f"renewal:{ORDER}:2025-04:1:2",
                  "3f0c2a51-1111-4222-8333-944455556666", f"renewal:{ORDER}"):
        assert Renewal.attempt_of(other, base) is None, other


def test_a_checkout_command_has_no_renewal_and_a_renewal_command_keeps_it_through_json():
    assert PriceCheckout(account_id="a", checkout_id="c", items=[]).renewal is None
    r = Renewal(order_id=ORDER, month="2025-04", attempt=1)
    cmd = PriceCheckout(account_id="a", checkout_id=r.checkout_id, renewal=r, items=[])
    assert PriceCheckout.model_validate_json(cmd.model_dump_json()).renewal == r
    reply = CheckoutPriced(account_id="a", checkout_id=r.checkout_id, renewal=r, total="0.00", price_book_version="v",
                           items=[])
    assert CheckoutPriced.model_validate(reply.model_dump(mode="json")).renewal.attempt == 1
