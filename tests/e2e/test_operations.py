"""What operations and integrators rely on: AsyncAPI per service, OpenAPI, health, readiness, metrics."""
import pytest

pytestmark = pytest.mark.e2e

PUBLISHES = {
    "aoi": {"aoi.registered.v1"},
    "tiling": {"coverage.reserved.v1", "coverage.rejected.v1", "coverage.released.v1", "coverage.committed.v1"},
    "pricing": {"pricing.checkout_priced.v1", "pricing.rejected.v1"},
    "cart": {"cart.frozen.v1", "cart.freeze_rejected.v1", "cart.released.v1", "cart.checked_out.v1"},
    "checkout": {"order.placed.v1", "order.status_changed.v1", "cart.freeze.v1", "coverage.reserve.v1",
                 "pricing.price_checkout.v1", "checkout.completed.v1", "checkout.failed.v1"},
}


LISTING = {"aoi": "/v1/aois", "tiling": "/v1/coverage?bbox=9,49,10,50", "pricing": "/v1/models",
           "cart": "/v1/carts", "checkout": "/v1/orders"}


@pytest.mark.parametrize("name", sorted(PUBLISHES))
async def test_each_service_documents_its_messages_and_exposes_health_and_metrics(stack, name):
    svc = stack[name]
    spec = (await svc.client.get("/asyncapi")).json()
    assert spec["asyncapi"].startswith("3.")
    assert PUBLISHES[name] <= set(spec["channels"])
    assert (await svc.client.get("/openapi.json")).json()["info"]["title"] == f"Tessera {name}"
    assert (await svc.client.get("/healthz")).status_code == 200
    ready = (await svc.client.get("/readyz")).json()
    assert ready["checks"] == {"database": "ok", "broker": "ok", "outbox": "ok"}
    metrics = (await svc.client.get("/metrics")).text
    assert f'outbox_backlog{{service="{name}"}}' in metrics
    assert "http_requests_total" in metrics
    paths = [p for p in (await svc.client.get("/openapi.json")).json()["paths"]]
    assert paths and all(p.startswith("/v1/") for p in paths)  # one ingress can route by prefix
    unauth = await svc.client.get(LISTING[name])
    assert unauth.status_code == 401 and unauth.json()["code"] == "unauthenticated"
