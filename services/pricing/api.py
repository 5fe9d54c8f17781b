"""HTTP routes of the pricing service: parse the request, call the use case, answer."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.pricing import usecases, views
from shared.auth import Principal, current_principal
from shared.http import request_body
from shared.problems import not_found

models = APIRouter(prefix="/v1/models", tags=["pricing"])
estimates = APIRouter(prefix="/v1/estimates", tags=["pricing"])
quotes = APIRouter(prefix="/v1/quotes", tags=["pricing"])
routers = [models, estimates, quotes]


@models.get("", response_model=None, responses={200: {"model": views.ModelsBody, "description": "the models"}})
async def list_models(principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    """The models, their constellations (required / optional with add-on rates) and the price book."""
    return views.models_view()


# the answer is documented, not validated: the estimate is served as the text the use case encoded
@estimates.post("", status_code=201,
                responses={201: {"model": views.EstimateBody, "description": "the estimate, stored as a quote"}},
                openapi_extra=request_body({"application/json": views.EstimateRequestBody},
                                           description="one order item, or a cart {\"items\": [...]}"))
async def create_estimate(request: Request, principal: Principal = Depends(current_principal)) -> Response:
    """Price one order item, or a cart ``{"items": [...]}``; the result is stored as a quote."""
    response, text = await usecases.make_estimate(
        request.app.state.rt, principal.account, await request.body(), request.headers.get("authorization")
    )
    return Response(text, status_code=201, media_type="application/json",
                    headers={"Location": f"/v1/quotes/{response['quote_id']}"})


@quotes.get("/{quote_id}", response_model=None, responses={200: {"model": views.QuoteBody, "description": "the quote"}})
async def get_quote(
    quote_id: str, request: Request, principal: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """A stored quote of the caller's account (404 for another account's)."""
    row = await usecases.find_quote(request.app.state.rt.pool, quote_id, principal.account)
    if row is None:
        raise not_found("quote", quote_id)
    return views.quote_view(row)
