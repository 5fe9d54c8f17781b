"""Kafka effects of the checkout service: each decodes its message and calls a use case, inside the
inbox transaction (the connection it is given), so the effect, its outbox messages and the inbox row
commit together.

- ``saga`` (``cart.cart.events``, ``tiling.coverage.events``, ``pricing.quote.events``): the replies
  of the checkout saga and of renewals; a reply is accepted only in the step that waits for it.
- ``production`` (``partner.order.events``): status reports from production and partners; one that
  can never apply (unknown order, sender not allowed, illegal transition) is dead-lettered with the reason.
"""
from __future__ import annotations

import asyncpg

from services.checkout import usecases
from services.checkout.domain.orders import ReportRefused
from shared.contracts.cart import CartFreezeRejected, CartFrozen
from shared.contracts.coverage import CoverageRejected, CoverageReserved
from shared.contracts.partner import ProductionStatusReported
from shared.contracts.pricing import CheckoutPriced, PricingRejected
from shared.inbox import Effect, Incoming, Reject, use_case_effects
from shared.service import Runtime


def saga_effects(rt: Runtime) -> dict[str, Effect]:
    """The saga's replies, for checkouts and renewals alike (a renewal's carry its `Renewal`)."""
    return use_case_effects(rt, {
        CartFrozen: usecases.cart_frozen,
        CartFreezeRejected: usecases.cart_freeze_rejected,
        CoverageReserved: usecases.coverage_reserved,
        CoverageRejected: usecases.coverage_rejected,
        CheckoutPriced: usecases.checkout_priced,
        PricingRejected: usecases.pricing_rejected,
    })


def production_effects(rt: Runtime) -> dict[str, Effect]:
    """Production status reports; the sender is the envelope's source."""

    async def on_status(conn: asyncpg.Connection, inc: Incoming) -> None:
        try:
            await usecases.report_status(rt, conn, inc.message_as(ProductionStatusReported), inc.envelope.source)
        except ReportRefused as exc:
            raise Reject(str(exc)) from None

    return {ProductionStatusReported.TYPE: on_status}
