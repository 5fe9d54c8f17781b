"""The merged OpenAPI document: every service's paths once, clashing schema names kept apart."""
import pytest

from shared.openapi import merge


def doc(paths: dict, schemas: dict) -> dict:
    return {"openapi": "3.1.0", "paths": paths, "components": {"schemas": schemas}}


def test_clashing_schemas_are_renamed_per_service_and_their_references_follow():
    a = doc({"/v1/a": {"get": {"operationId": "get_a", "responses": {"200": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Item"}}}}}}}},
        {"Item": {"type": "object", "properties": {"a": {"type": "string"}}}, "Same": {"type": "string"}})
    b = doc({"/v1/b": {"post": {"operationId": "post_b", "requestBody": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Item"}}}}}}},
        {"Item": {"type": "object", "properties": {"b": {"type": "integer"}}}, "Same": {"type": "string"}})
    merged = merge({"aoi": a, "cart": b})
    assert sorted(merged["components"]["schemas"]) == ["AoiItem", "CartItem", "Same"]
    get = merged["paths"]["/v1/a"]["get"]
    assert get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/AoiItem"
    post = merged["paths"]["/v1/b"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/CartItem"
    assert (get["operationId"], post["operationId"]) == ("aoi_get_a", "cart_post_b")  # unique across services


def test_a_path_served_by_two_services_is_refused():
    same = doc({"/v1/x": {"get": {"operationId": "x", "responses": {}}}}, {})
    with pytest.raises(ValueError, match="/v1/x"):
        merge({"aoi": same, "cart": same})
