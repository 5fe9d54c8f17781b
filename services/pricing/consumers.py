"""Kafka effects of the pricing service (the inbox runs each in its transaction): decode, call the use case.

- ``checkout`` (pricing.quote.commands): ``PriceCheckout`` -> ``CheckoutPriced`` | ``PricingRejected``;
- ``spend-ledger`` (checkout.order.events, checkout.checkout.events): placed / renewed / canceled orders
  feed the spend ledger (and settle provisional spend); ``CheckoutFailed`` and ``RenewalFailed`` drop
  provisional spend; the rest are not ours.
"""
from __future__ import annotations

import asyncpg

from services.pricing import usecases
from shared.contracts.checkout import CheckoutFailed, OrderCanceled, OrderPlaced, OrderRenewed, RenewalFailed
from shared.contracts.pricing import PriceCheckout
from shared.inbox import Effect, Incoming
from shared.service import Runtime


def checkout_effects(rt: Runtime) -> dict[str, Effect]:
    """pricing.quote.commands: PriceCheckout -> CheckoutPriced | PricingRejected (outbox)."""

    async def price_checkout(conn: asyncpg.Connection, inc: Incoming) -> None:
        await usecases.answer_price_checkout(conn, rt.outbox, inc.message_as(PriceCheckout),
                                             inc.envelope.correlation_id)

    return {PriceCheckout.TYPE: price_checkout}


def ledger_effects(rt: Runtime) -> dict[str, Effect]:
    """checkout.order.events and checkout.checkout.events: the spend ledger and provisional spend."""

    async def record(conn: asyncpg.Connection, inc: Incoming) -> None:
        await usecases.record_spend(conn, inc.message, inc.envelope.id)

    async def failed(conn: asyncpg.Connection, inc: Incoming) -> None:
        message = inc.message
        if not isinstance(message, CheckoutFailed | RenewalFailed):
            raise TypeError(f"{inc.envelope.type} decoded to {type(message).__name__}")
        await usecases.drop_provisional(conn, message)

    return {
        OrderPlaced.TYPE: record,
        OrderRenewed.TYPE: record,
        OrderCanceled.TYPE: record,
        CheckoutFailed.TYPE: failed,
        RenewalFailed.TYPE: failed,
    }
