"""Kafka effects of the cart service: its part of the checkout saga.

``cart.cart.commands`` through the inbox; the replies go to ``cart.cart.events`` through the outbox,
in the same transaction: FreezeCart -> CartFrozen | CartFreezeRejected, ReleaseCart -> CartReleased,
CloseCart -> CartCheckedOut. Redelivered commands are idempotent (see usecases).
"""
from __future__ import annotations

import asyncpg

from services.cart import usecases
from services.cart.domain import IllegalCartTransition
from shared.contracts.cart import CloseCart, FreezeCart, ReleaseCart
from shared.inbox import Effect, Incoming, Reject
from shared.service import Runtime


def saga_effects(rt: Runtime) -> dict[str, Effect]:
    """cart.cart.commands: FreezeCart / ReleaseCart / CloseCart, each in the inbox transaction. A move
    the cart's state machine can never make is rejected (dead-lettered with the reason)."""

    async def on_freeze(conn: asyncpg.Connection, inc: Incoming) -> None:
        await usecases.freeze_cart(rt, conn, inc.message_as(FreezeCart), inc.envelope.correlation_id)

    async def on_release(conn: asyncpg.Connection, inc: Incoming) -> None:
        try:
            await usecases.release_cart(rt, conn, inc.message_as(ReleaseCart), inc.envelope.correlation_id)
        except IllegalCartTransition as exc:
            raise Reject(str(exc)) from None

    async def on_close(conn: asyncpg.Connection, inc: Incoming) -> None:
        try:
            await usecases.close_cart(rt, conn, inc.message_as(CloseCart), inc.envelope.correlation_id)
        except IllegalCartTransition as exc:
            raise Reject(str(exc)) from None

    return {FreezeCart.TYPE: on_freeze, ReleaseCart.TYPE: on_release, CloseCart.TYPE: on_close}
