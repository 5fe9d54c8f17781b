"""Idempotency-Key is taken the one way (shared.idempotency.optional_key / required_key): every route that
takes it documents it in OpenAPI with its replay semantics, and checks it with key_of."""
from __future__ import annotations

import httpx
import pytest
from fastapi import Depends

from services.aoi import api as aoi
from services.cart import api as cart
from services.checkout import api as checkout
from services.pricing import api as pricing
from services.tiling import api as tiling
from shared import idempotency
from shared.http import create_app

TAKING_A_KEY = {
    ("post", "/v1/aois"), ("post", "/v1/carts"), ("post", "/v1/carts/{cart_id}/items"),
    ("patch", "/v1/carts/{cart_id}/items/{item_id}"), ("delete", "/v1/carts/{cart_id}/items/{item_id}"),
    ("post", "/v1/checkouts"), ("post", "/v1/accounts/{account}/credits"),
}


def openapi() -> dict:
    app = create_app("probe")
    for router in (aoi.router, tiling.router, tiling.coverage_router, *pricing.routers, cart.router, checkout.router):
        app.include_router(router)
    return app.openapi()


def test_every_route_that_takes_the_key_documents_it_with_its_semantics():
    documented = {}
    for path, operations in openapi()["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == idempotency.HEADER:
                    documented[(method, path)] = parameter
    assert set(documented) == TAKING_A_KEY
    for parameter in documented.values():
        assert parameter["in"] == "header"
        assert "Idempotent-Replayed: true" in parameter["description"]
        assert "idempotency_key_reused" in parameter["description"]
    assert documented[("post", "/v1/checkouts")]["description"].startswith("Required")
    assert documented[("post", "/v1/carts")]["description"].startswith("Optional")


@pytest.fixture
async def probe():
    app = create_app("probe")

    @app.post("/optional")
    async def optional(key: str | None = Depends(idempotency.optional_key)) -> dict:
        return {"key": key}

    @app.post("/required")
    async def required(key: str = Depends(idempotency.required_key)) -> dict:
        return {"key": key}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://probe") as client:
        yield client


@pytest.mark.parametrize("path,sent,status,answer", [
    ("/optional", None, 200, None),
    ("/optional", " k-1 ", 200, "k-1"),
    ("/required", "k-1", 200, "k-1"),
    ("/required", None, 422, "idempotency_key_required"),
    ("/optional", "   ", 422, "invalid_idempotency_key"),
    ("/required", "k" * 256, 422, "invalid_idempotency_key"),
])
async def test_the_key_is_checked_by_key_of(probe, path, sent, status, answer):
    r = await probe.post(path, headers={idempotency.HEADER: sent} if sent is not None else {})
    assert r.status_code == status
    assert (r.json()["key"] if status == 200 else r.json()["code"]) == answer
