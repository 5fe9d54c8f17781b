"""HTTP routes of the cart service: parse the request, call a use case, answer.

Every route is authenticated; another account's cart is a 404.

- ``POST /v1/carts`` -> 201 cart; ``GET /v1/carts`` -> ``{"carts": [...]}``;
  ``GET /v1/carts/{id}`` -> the cart with its items and a live ``estimate`` from pricing (or
  ``estimate: null`` and ``estimate_note`` saying why).
- ``POST /v1/carts/{id}/items`` (an order-item payload) -> 201 item; ``PATCH .../items/{item}``
  (a JSON merge patch of the payload) -> 200 item; ``DELETE .../items/{item}`` -> 204.
- Mutations accept ``Idempotency-Key`` (``shared.idempotency``): the same key (per account) with the
  same request replays the first response (header ``Idempotent-Replayed: true``); with a different
  request it is a 422.
- A frozen cart (checkout in progress) or a checked-out one refuses changes with a 409 naming the checkout.
"""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.cart import usecases, views
from services.cart.domain import CartStatus
from shared import idempotency
from shared.auth import Principal, current_principal
from shared.http import request_body
from shared.problems import Problem
from shared.service import Runtime
from shared.vocabulary import StoredOrderItem

router = APIRouter(prefix="/v1/carts", tags=["cart"])


async def _json_body(request: Request, *, required: bool = True) -> Any:
    raw = await request.body()
    if not raw.strip():
        if required:
            raise Problem(422, "validation_error", "body: send a JSON object",
                          errors=[{"field": "body", "message": "send a JSON object"}])
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:  # not JSON, not UTF-8, or a number of more than 4,300 digits
        raise Problem(400, "malformed_json", f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise Problem(400, "malformed_json", "the body is nested too deeply to be read; an order item is a flat "
                                             "JSON object") from None


def _caller(request: Request, principal: Principal, key: str | None, body: Any = None) -> usecases.Caller:
    """The caller of a use case: account, Authorization and, for a mutation, its Idempotency-Key."""
    return usecases.Caller(principal.account, request.headers.get("authorization"), key,
                           idempotency.fingerprint(request, body) if key is not None else "")


def _rt(request: Request) -> Runtime:
    rt: Runtime = request.app.state.rt
    return rt


@router.post("", status_code=201, responses={201: {"model": views.Cart, "description": "the new cart"}},
             openapi_extra=request_body({"application/json": views.NewCart}, description="nothing needed",
                                        required=False))
async def create_cart(request: Request, principal: Principal = Depends(current_principal),
                      key: str | None = Depends(idempotency.optional_key)) -> Response:
    """A new, empty, open cart of the caller's account."""
    body = await _json_body(request, required=False)
    if body is not None and not isinstance(body, dict):
        raise Problem(422, "validation_error", "body: send a JSON object (or nothing)",
                      errors=[{"field": "body", "message": "send a JSON object (or nothing)"}])
    return await usecases.create_cart(_rt(request), _caller(request, principal, key, body))


@router.get("", response_model=None, responses={200: {"model": views.CartList, "description": "the carts"}})
async def list_carts(request: Request, principal: Principal = Depends(current_principal),
                     status: CartStatus | None = Query(default=None)) -> dict[str, Any]:
    """The caller's carts, newest first (no estimates)."""
    return await usecases.list_carts(_rt(request), principal.account, status)


@router.get("/{cart_id}", response_model=None,
            responses={200: {"model": views.CartWithEstimate, "description": "the cart with its live estimate"}})
async def get_cart(cart_id: str, request: Request,
                   principal: Principal = Depends(current_principal)) -> dict[str, Any]:
    """The cart, its items and a live estimate (``estimate: null`` plus ``estimate_note`` when there is none)."""
    caller = usecases.Caller(principal.account, request.headers.get("authorization"))
    return await usecases.cart_with_estimate(_rt(request), caller, cart_id)


@router.post("/{cart_id}/items", status_code=201,
             responses={201: {"model": views.CartItem, "description": "the item added"}},
             openapi_extra=request_body({"application/json": StoredOrderItem}, description="the order item"))
async def add_item(cart_id: str, request: Request, principal: Principal = Depends(current_principal),
                   key: str | None = Depends(idempotency.optional_key)) -> Response:
    """Add one item: an order-item payload (``aoi_id`` or a grid selection, plus its configuration)."""
    body = await _json_body(request)
    return await usecases.add_item(_rt(request), _caller(request, principal, key, body), cart_id, body)


@router.patch("/{cart_id}/items/{item_id}", responses={200: {"model": views.CartItem, "description": "the item"}},
              openapi_extra=request_body({"application/json": views.ItemPatch}, description="a merge patch"))
async def update_item(cart_id: str, item_id: str, request: Request,
                      principal: Principal = Depends(current_principal),
                      key: str | None = Depends(idempotency.optional_key)) -> Response:
    """Change one item: a JSON merge patch of its payload (aliases accepted; ``null`` removes a field).
    When the AOI (``aoi_id`` or the grid selection) changes, its facts are read again."""
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise Problem(422, "validation_error", "body: send a JSON object (a merge patch of the item)",
                      errors=[{"field": "body", "message": "send a JSON object (a merge patch of the item)"}])
    return await usecases.update_item(_rt(request), _caller(request, principal, key, body), cart_id, item_id, body)


@router.delete("/{cart_id}/items/{item_id}", status_code=204, responses={204: {"description": "removed"}})
async def remove_item(cart_id: str, item_id: str, request: Request,
                      principal: Principal = Depends(current_principal),
                      key: str | None = Depends(idempotency.optional_key)) -> Response:
    """Remove one item (204; an item already gone is a 404)."""
    return await usecases.remove_item(_rt(request), _caller(request, principal, key), cart_id, item_id)
