"""The cart's pure domain: its state machine and its items' payload/facts."""
from services.cart.domain.items import (
    canonical_keys,
    grid_facts,
    kept_payload,
    merge_patch,
    parse_item,
    polygon_facts,
    same_aoi,
    snapshot,
    snapshot_payload,
    stored_payload,
    union_footprint,
    with_resolved_selection,
)
from services.cart.domain.state import (
    Cart,
    CartLocked,
    CartStatus,
    FreezeRefusal,
    IllegalCartTransition,
    NotHeld,
    Transition,
    close,
    ensure_editable,
    freeze,
    release,
)

__all__ = [
    "Cart", "CartLocked", "CartStatus", "FreezeRefusal", "IllegalCartTransition", "NotHeld", "Transition",
    "canonical_keys", "close", "ensure_editable", "freeze", "grid_facts", "kept_payload", "merge_patch", "parse_item",
    "polygon_facts", "release", "same_aoi", "snapshot", "snapshot_payload", "stored_payload", "union_footprint",
    "with_resolved_selection",
]
