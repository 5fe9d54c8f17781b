"""A status report names its order by the order's primary key, in the spelling it is keyed by."""
import uuid

from services.checkout.domain.orders import order_uuid


def test_a_canonical_uuid_is_the_orders_key():
    order = uuid.uuid4()
    assert order_uuid(str(order)) == order


def test_any_other_text_names_no_order():
    order = uuid.uuid4()
    for text in ("", "o-1", "not-a-uuid", "\x00", str(order).upper(), order.hex, f"{{{order}}}", f"urn:uuid:{order}"):
        assert order_uuid(text) is None, text
