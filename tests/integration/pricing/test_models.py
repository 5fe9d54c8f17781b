"""GET /v1/models: the catalogue and rates of docs/domain.md, Configuration and Pricing."""
import pytest

pytestmark = pytest.mark.integration


async def test_models_list_every_model_with_its_base_rate_and_constellations(pricing, unique):
    r = await pricing.client.get("/v1/models", headers=pricing.auth(f"acct-{unique}"))
    assert r.status_code == 200
    body = r.json()
    assert body["currency"] == "EUR" and body["price_book_version"]
    by_model = {m["model"]: m for m in body["models"]}
    # Section 5: Stratus-2 0.20, Stratus-3 0.20, Stratus-2 Fast 0.18, Nimbus 0.10 per km² per image.
    assert {k: m["base_rate_per_km2"] for k, m in by_model.items()} == {
        "Stratus2": "0.20", "Stratus3": "0.20", "Stratus2Fast": "0.18", "Nimbus": "0.10"}
    assert by_model["Stratus2"]["display_name"] == "Stratus-2"
    assert by_model["Stratus2Fast"]["display_name"] == "Stratus-2 Fast"
    # Section 4: Stratus-2/3 require all three; Stratus-2 Fast requires S1+S2, Landsat optional (+0.02).
    assert sorted(by_model["Stratus2"]["required_constellations"]) == ["Landsat89", "Sentinel1", "Sentinel2"]
    assert by_model["Stratus2"]["optional_constellations"] == []
    assert sorted(by_model["Stratus2Fast"]["required_constellations"]) == ["Sentinel1", "Sentinel2"]
    optional = by_model["Stratus2Fast"]["optional_constellations"]
    assert [(o["constellation"], o["add_on_rate_per_km2"]) for o in optional] == [("Landsat89", "0.02")]
    # Mode factors (docs/domain.md, Order modes) and tier brackets (docs/domain.md, Pricing).
    assert body["mode_factors"] == {"polygon": "1.00", "tile": "0.20", "minitile": "0.50"}
    assert [(t["spend_from"], t["discount"]) for t in body["tiers"]["Stratus"]][:2] \
        == [("0.00", "0"), ("1000.00", "0.65")]
    assert body["minimum_billable_km2"] == "0.5"


async def test_models_need_a_token(pricing):
    r = await pricing.client.get("/v1/models")
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"
