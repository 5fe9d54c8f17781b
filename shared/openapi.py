"""One OpenAPI document for the whole API, merged from the five services' own documents.

The edge serves it at `/openapi.json` (one origin for the dashboard and script clients), and the
dashboard's typed client is generated from it. Paths never collide (each service owns its prefixes);
a component schema two services define differently is kept once per service, renamed
`<Service><Name>`, and every reference to it is rewritten.

    python -m shared.openapi [OUT.json]     # writes the merged document (stdout without OUT)
"""
from __future__ import annotations

import json
import os
import sys
from importlib import import_module
from typing import Any

SERVICES = ("aoi", "tiling", "pricing", "cart", "checkout")
TITLE = "Tessera API"
TAGS = {
    "aoi": "Areas of interest: import (any format), validate, store, list and search",
    "tiling": "The tile grid: cells, search, selection, the cheapest cover",
    "coverage": "What the account already owns on the grid",
    "pricing": "Models, estimates and quotes",
    "cart": "Carts and their items, with a live estimate",
    "checkout": "Checkout, credits and accounts, orders, cancellation, renewals",
}


def service_documents() -> dict[str, dict[str, Any]]:
    """Each service's OpenAPI document, built from its composition (no database or broker needed)."""
    from shared.service import build_app

    # Settings need addresses to validate; building the document opens no connection.
    os.environ.setdefault("DATABASE_URL", "postgresql://unused@127.0.0.1:1/unused")
    os.environ.setdefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    docs = {}
    for name in SERVICES:
        spec = import_module(f"services.{name}.app").spec()
        docs[name] = build_app(spec).openapi()
    return docs


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                name = value.rsplit("/", 1)[1]
                out[key] = f"#/components/schemas/{renames.get(name, name)}"
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v, renames) for v in node]
    return node


def merge(docs: dict[str, dict[str, Any]], version: str = "0.1.0") -> dict[str, Any]:
    """The merged document; a path defined by two services is an error (it would be unroutable)."""
    schemas: dict[str, Any] = {}
    owner: dict[str, str] = {}
    paths: dict[str, Any] = {}
    security: dict[str, Any] = {}
    # which names clash: defined by several services with different content
    seen: dict[str, dict[str, str]] = {}
    for service, doc in docs.items():
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            seen.setdefault(name, {})[service] = json.dumps(schema, sort_keys=True)
    clashing = {name for name, by in seen.items() if len(set(by.values())) > 1}
    for service, doc in docs.items():
        prefix = service.capitalize()
        renames = {name: f"{prefix}{name}" for name in clashing if name in doc.get("components", {}).get("schemas", {})}
        doc = _rewrite_refs(doc, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            target = renames.get(name, name)
            schemas[target] = schema
            owner.setdefault(target, service)
        security.update(doc.get("components", {}).get("securitySchemes", {}))
        for path, item in doc.get("paths", {}).items():
            if path in paths:
                raise ValueError(f"path {path} is defined by {service} and by another service")
            tagged = {}
            for method, op in item.items():
                if isinstance(op, dict) and "operationId" in op:
                    op = {**op, "operationId": f"{service}_{op['operationId']}", "tags": op.get("tags") or [service]}
                tagged[method] = op
            paths[path] = tagged
    components: dict[str, Any] = {"schemas": dict(sorted(schemas.items()))}
    used_tags = sorted({t for item in paths.values() for op in item.values() if isinstance(op, dict)
                        for t in op.get("tags", [])})
    if security:
        components["securitySchemes"] = security
    return {
        "openapi": next(iter(docs.values())).get("openapi", "3.1.0"),
        "info": {"title": TITLE, "version": version,
                 "description": "The whole Tessera API behind one origin: AOIs, the grid, pricing, carts, "
                                "checkout and orders. Every route needs a bearer token. A refusal is a problem "
                                "document (application/problem+json) whose `code` each operation lists "
                                "(`x-problem-codes`).",
                 "contact": {"name": "Tessera", "url": "https://tessera.dev"}},
        "servers": [{"url": "/", "description": "the edge: every API on one origin"}],
        "tags": [{"name": t, "description": TAGS.get(t, t)} for t in used_tags],
        "paths": dict(sorted(paths.items())),
        "components": components,
    }


def main(argv: list[str]) -> None:
    text = json.dumps(merge(service_documents()), indent=2, sort_keys=False)
    if len(argv) > 1:
        with open(argv[1], "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main(sys.argv)
