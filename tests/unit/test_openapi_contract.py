"""The contract the dashboard is generated from: every operation of the five services' OpenAPI documents
has a request schema where it takes a body, a 2xx answer with a schema, and its problem responses as
application/problem+json with the codes it can send, read from the code (shared.problem_codes)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from shared import problem_codes
from shared.openapi import merge, service_documents

METHODS = {"get", "put", "post", "patch", "delete"}
BODILESS = {"get", "delete"}
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return service_documents()


def operations(docs: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [(service, path, method, op) for service, doc in docs.items() for path, item in doc["paths"].items()
            for method, op in item.items() if method in METHODS]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_every_operation_is_typed(documents):
    missing = []
    for service, path, method, op in operations(documents):
        doc = documents[service]
        where = f"{service} {method.upper()} {path}"
        if method not in BODILESS:
            body = op.get("requestBody")
            if body is None and method in ("post", "patch", "put"):
                # an action on a resource (cancel, run) takes no body: then it says so with no parameters in one
                if not path.endswith((":cancel", ":run")):
                    missing.append(f"{where}: no request body")
            for media, content in (body or {}).get("content", {}).items():
                if not content.get("schema"):
                    missing.append(f"{where}: request {media} has no schema")
        successes = {s: r for s, r in op["responses"].items() if s.startswith("2")}
        if not successes:
            missing.append(f"{where}: no 2xx answer")
        for status, response in successes.items():
            if status == "204":
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            if not schema or not resolve(doc, schema).get("properties"):
                missing.append(f"{where}: {status} answer has no typed schema ({schema})")
    assert not missing, "\n".join(missing)


def test_every_operation_lists_its_problems(documents):
    wrong = []
    for service, path, method, op in operations(documents):
        where = f"{service} {method.upper()} {path}"
        problems = {s: r for s, r in op["responses"].items() if s[0] in "45"}
        if not problems:
            wrong.append(f"{where}: no problem response")
        for status, response in problems.items():
            if list(response.get("content", {})) != [PROBLEM]:
                wrong.append(f"{where}: {status} is not {PROBLEM} only")
            elif response["content"][PROBLEM]["schema"] != {"$ref": "#/components/schemas/Problem"}:
                wrong.append(f"{where}: {status} is not the Problem schema")
            if not response.get("x-problem-codes"):
                wrong.append(f"{where}: {status} names no code")
        if "401" not in problems:
            wrong.append(f"{where}: every route needs a bearer token, yet no 401")
    assert not wrong, "\n".join(wrong)


def test_the_codes_are_read_from_the_code(documents):
    """Spot checks that the codes follow the routes' code paths (the walk, not a list kept by hand)."""

    def codes(service: str, path: str, method: str, status: str) -> set[str]:
        return set(documents[service]["paths"][path][method]["responses"][status]["x-problem-codes"])

    assert {"unauthenticated", "token_expired", "invalid_token"} <= codes("pricing", "/v1/models", "get", "401")
    assert "admin_required" in codes("checkout", "/v1/renewals:run", "post", "403")
    assert "403" not in documents["checkout"]["paths"]["/v1/orders"]["get"]["responses"]
    assert {"cart_frozen", "cart_checked_out", "cart_full"} <= codes("cart", "/v1/carts/{cart_id}/items", "post", "409")
    assert {"idempotency_key_required", "validation_error"} <= codes("checkout", "/v1/checkouts", "post", "422")
    # an exception's codes: the AOI importer's declared refusals, grid errors with their prefix
    assert {"invalid_ring", "no_polygon", "unknown_format"} <= codes("aoi", "/v1/aois", "post", "422")
    assert "upload_too_large" in codes("aoi", "/v1/aois", "post", "413")
    assert "import_busy" in codes("aoi", "/v1/aois", "post", "503")
    assert "grid_malformed" in codes("tiling", "/v1/tiles/{guid}", "get", "422")
    assert "grid_out_of_grid" in codes("tiling", "/v1/tiles/{guid}", "get", "404")
    # a problem factory called with a constructed exception: only that code
    assert codes("aoi", "/v1/aois:search", "post", "413") == {"upload_too_large"}
    assert {"cancel_refused"} == codes("checkout", "/v1/orders/{order_id}:cancel", "post", "409")


def test_every_problem_construction_is_read():
    service_documents()
    assert problem_codes.unresolved() == []


def test_raw_bodies_are_described(documents):
    aoi = documents["aoi"]["paths"]["/v1/aois"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json", "text/plain", "application/octet-stream"} <= set(aoi)
    form = resolve(documents["aoi"], aoi["multipart/form-data"]["schema"])
    assert form["required"] == ["file"]
    assert {"file", "name", "repair", "dissolve", "drop_failing"} <= set(form["properties"])
    estimate = documents["pricing"]["paths"]["/v1/estimates"]["post"]["requestBody"]["content"]["application/json"]
    variants = resolve(documents["pricing"], estimate["schema"])["anyOf"]
    assert {"#/components/schemas/OrderItem", "#/components/schemas/EstimateCart"} == {v["$ref"] for v in variants}
    item = documents["cart"]["paths"]["/v1/carts/{cart_id}/items"]["post"]["requestBody"]["content"]
    assert item["application/json"]["schema"] == {"$ref": "#/components/schemas/StoredOrderItem"}


def test_the_merged_document_keeps_every_reference_resolvable(documents):
    merged = merge(documents)
    text = json.dumps(merged)
    names = set(merged["components"]["schemas"])
    refs = {part.split('"')[0] for part in text.split('"#/components/schemas/')[1:]}
    assert refs <= names, refs - names
    assert {t["name"] for t in merged["tags"]} >= {"aoi", "tiling", "pricing", "cart", "checkout"}
