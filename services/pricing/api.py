"""HTTP routes and Kafka effects of the pricing service: thin (parse, call the use case, persist, enqueue)."""
from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.pricing import store
from services.pricing import usecases as estimates
from services.pricing.domain import checkout as saga
from shared.auth import Principal, current_principal
from shared.contracts.checkout import CheckoutFailed, OrderCanceled, OrderPlaced, OrderRenewed, RenewalFailed
from shared.contracts.pricing import PriceCheckout
from shared.inbox import Effect, Incoming
from shared.problems import not_found

log = logging.getLogger("tessera.pricing")

models = APIRouter(prefix="/v1/models", tags=["pricing"])
estimates_router = APIRouter(prefix="/v1/estimates", tags=["pricing"])
quotes = APIRouter(prefix="/v1/quotes", tags=["pricing"])
routers = [models, estimates_router, quotes]


@models.get("")
async def list_models(principal: Principal = Depends(current_principal)) -> dict:
    """The models, their constellations (required / optional with add-on rates) and the price book."""
    return estimates.models_view()


@estimates_router.post("", status_code=201)
async def create_estimate(request: Request, principal: Principal = Depends(current_principal)) -> Response:
    """Price one order item, or a cart ``{"items": [...]}``; the result is stored as a quote."""
    response, text = await estimates.make_estimate(
        request.app.state.rt, principal.account, await request.body(), request.headers.get("authorization")
    )
    return Response(text, status_code=201, media_type="application/json",
                    headers={"Location": f"/v1/quotes/{response['quote_id']}"})


@quotes.get("/{quote_id}")
async def get_quote(quote_id: str, request: Request, principal: Principal = Depends(current_principal)) -> dict:
    """A stored quote of the caller's account (404 for another account's)."""
    try:
        ident = uuid.UUID(quote_id)
    except ValueError:
        raise not_found("quote", quote_id) from None
    row = await store.get_quote(request.app.state.rt.pool, ident, principal.account)
    if row is None:
        raise not_found("quote", quote_id)
    return estimates.quote_view(row)


# ------------------------------------------------------------------------------ background


async def purge_quotes(rt) -> None:
    """Background job: expired quotes are deleted after ``quote_retention_seconds``."""
    while True:
        try:
            purged = await estimates.purge_expired_quotes(rt.pool, datetime.now(UTC),
                                                          rt.settings.quote_retention_seconds)
            if purged:
                log.info("purged %d expired quotes", purged)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("quote purge failed")
        await asyncio.sleep(rt.settings.quote_purge_seconds)


# ------------------------------------------------------------------------------ Kafka effects


def checkout_effects(rt) -> dict[str, Effect]:
    """pricing.quote.commands: PriceCheckout -> CheckoutPriced | PricingRejected (outbox)."""

    async def price_checkout(conn, inc: Incoming) -> None:
        cmd: PriceCheckout = inc.message  # type: ignore[assignment]
        await store.lock_account(conn, cmd.account_id)
        reply = await saga.checkout_reply(conn, cmd)
        await rt.outbox.add(conn, reply, correlation_id=inc.envelope.correlation_id)

    return {PriceCheckout.TYPE: price_checkout}


def ledger_effects(rt) -> dict[str, Effect]:
    """checkout.order.events: placed / renewed / canceled feed the spend ledger (and settle provisional spend);
    CheckoutFailed (checkout.checkout.events) and RenewalFailed drop provisional spend; the rest are not ours."""

    async def record(conn, inc: Incoming) -> None:
        await saga.record_spend(conn, inc.message, inc.envelope.id)

    async def failed(conn, inc: Incoming) -> None:
        await saga.drop_provisional(conn, inc.message)  # type: ignore[arg-type]

    return {
        OrderPlaced.TYPE: record,
        OrderRenewed.TYPE: record,
        OrderCanceled.TYPE: record,
        CheckoutFailed.TYPE: failed,
        RenewalFailed.TYPE: failed,
    }
