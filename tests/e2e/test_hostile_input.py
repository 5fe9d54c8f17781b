"""No input gets a 5xx: bad bodies, paths, query parameters and tokens are refused with a 4xx
problem saying what is wrong, and another account's resources are not found.

The fuzzing is seeded (the same cases every run) and sent over one keep-alive connection per
service, so an answer that drops the connection fails the case too.
"""
from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth import mint
from shared.settings import DEV_KEYS
from tests.e2e.conftest import Dashboard
from tests.e2e.test_dashboard_flow import APRIL, BOX

pytestmark = pytest.mark.e2e

WKT = "POLYGON((10 50, 10.1 50, 10.1 50.1, 10 50.1, 10 50))"


def deep(n: int) -> str:
    return "[" * n + "]" * n


@dataclass
class Sent:
    service: str
    method: str
    path: str
    body: bytes | None
    status: int | None
    answer: str

    def __str__(self) -> str:
        body = (self.body or b"")[:80]
        return f"{self.method} {self.service}{self.path} body={body!r}... -> {self.status}: {self.answer[:200]}"


class Sender:
    """One keep-alive connection per service; records every request and its answer."""

    def __init__(self, stack, account: str):
        self.stack, self.account = stack, account
        self.h = {"Authorization": f"Bearer {mint(account)}"}
        self.admin = {"Authorization": f"Bearer {mint('ops', admin=True)}"}
        self.clients = {name: httpx.AsyncClient(base_url=svc.base_url, timeout=60.0,
                                                limits=httpx.Limits(max_connections=1))
                        for name, svc in stack.items()}
        self.sent: list[Sent] = []

    async def send(self, service: str, method: str, path: str, body: bytes | None = None,
                   content_type: str | None = "application/json", headers: dict | None = None) -> Sent:
        h = {**(headers or self.h)}
        if content_type and body is not None:
            h["content-type"] = content_type
        try:
            r = await self.clients[service].request(method, path, content=body, headers=h)
            s = Sent(service, method, path, body, r.status_code, r.text)
            if r.status_code >= 400:
                problem = r.json()  # every refusal is a problem document...
                assert problem["status"] == r.status_code and problem["code"] and problem["detail"], r.text
        except (httpx.TransportError, ValueError, KeyError, AssertionError) as exc:  # ...on a kept connection
            s = Sent(service, method, path, body, None, f"{type(exc).__name__}: {exc}")
        self.sent.append(s)
        return s

    async def aclose(self):
        for c in self.clients.values():
            await c.aclose()


@pytest.fixture(scope="module")
async def world(stack):
    """Real ids to aim at: an AOI, carts with an item, a tile GUID."""
    d = Dashboard(stack, f"fuzz-{uuid.uuid4().hex[:8]}")
    aoi = await d.upload_aoi("box", json.dumps(BOX).encode(), "box.geojson")
    cart = await d.new_cart()
    item = await d.add_item(cart, {"aoi_id": aoi["id"], **APRIL})
    spare = await d.new_cart()
    r = await stack["tiling"].client.post("/v1/tiles/search", json={"bbox": [10.0, 50.0, 10.1, 50.1]}, headers=d.h)
    guid = r.json()["tiles"][0]["guid"]
    return {"d": d, "aoi": aoi["id"], "cart": cart, "item": item["id"], "spare_cart": spare, "guid": guid}


# ------------------------------------------------------------------------------ the cases the issue named


async def test_the_inputs_that_answered_5xx_are_refused_with_4xx(stack, world):
    s = Sender(stack, world["d"].account)
    cart, aoi = world["cart"], world["aoi"]
    item = {"aoi_id": aoi, **APRIL}
    empty_ring, junk_ring = b'{"type":"Polygon","coordinates":[[]]}', b'{"type":"Polygon","coordinates":[{}]}'
    cases = [
        # (service, method, path, body, headers (None: the account's), expected status, field or code)
        ("aoi", "POST", "/v1/aois", junk_ring, None, 422, "invalid_ring"),
        ("aoi", "POST", "/v1/aois:validate", junk_ring, None, 422, "invalid_ring"),
        ("aoi", "POST", "/v1/aois", empty_ring, None, 422, "invalid_ring"),
        ("aoi", "POST", "/v1/aois:validate", empty_ring, None, 422, "invalid_ring"),
        ("aoi", "GET", "/v1/aois/%00", None, None, 404, "not_found"),
        ("aoi", "POST", "/v1/aois?name=a%00b", WKT.encode(), None, 422, "name"),
        ("aoi", "POST", "/v1/aois", json.dumps({"name": "\ud800", "wkt": WKT}).encode(), None, 422, "name"),
        ("aoi", "GET", "/v1/aois?cursor=%00", None, None, 422, "cursor"),
        ("aoi", "POST", "/v1/aois:search", b'{"bbox": [9, 49, 10, 50], "cursor": "\\ud800"}', None, 422, "cursor"),
        ("cart", "POST", "/v1/carts", deep(1100).encode(), None, 400, "malformed_json"),
        ("cart", "POST", f"/v1/carts/{cart}/items", deep(1100).encode(), None, 400, "malformed_json"),
        ("cart", "PATCH", f"/v1/carts/{cart}/items/{world['item']}", deep(1100).encode(), None, 400, "malformed_json"),
        ("checkout", "POST", "/v1/checkouts", json.dumps({"cart_id": cart, "accepted_total": "1000000000000"}).encode(),
         {**s.h, "Idempotency-Key": "k-1e12"}, 422, "accepted_total"),
        ("checkout", "POST", "/v1/checkouts", json.dumps({"cart_id": "\x00", "accepted_total": "1.00"}).encode(),
         {**s.h, "Idempotency-Key": "k-nul"}, 422, "cart_id"),
        ("checkout", "POST", "/v1/checkouts", b'{"cart_id": "\\udc00", "accepted_total": "1.00"}',
         {**s.h, "Idempotency-Key": "k-surrogate"}, 422, "cart_id"),
        ("checkout", "POST", "/v1/checkouts", json.dumps({"cart_id": cart, "accepted_total": "1.00"}).encode(),
         {**s.h, "Idempotency-Key": "k" * 8000}, 422, "Idempotency-Key"),
        ("checkout", "POST", f"/v1/accounts/{s.account}/credits", b'{"amount": "1000000000000"}', s.admin, 422,
         "amount"),
        ("checkout", "POST", f"/v1/accounts/{s.account}/credits", b'{"amount": 1e12}', s.admin, 422, "amount"),
        ("checkout", "PATCH", f"/v1/accounts/{s.account}", b'{"overdraft_limit": "1000000000000.00"}', s.admin, 422,
         "overdraft_limit"),
        ("checkout", "POST", "/v1/renewals:run?month=abc", None, s.admin, 422, "month"),
        ("checkout", "POST", "/v1/renewals:run?month=2025-13", None, s.admin, 422, "month"),
        ("checkout", "POST", "/v1/renewals:run?month=9999-12", None, s.admin, 422, "month"),
        ("checkout", "GET", "/v1/accounts/%00/credits", None, s.admin, 404, "not_found"),
        ("checkout", "GET", "/v1/accounts/%00/credits", None, None, 404, "not_found"),
        # a date past 2099-12-31 is refused where the item is accepted, by the one rule cart and pricing share
        ("cart", "POST", f"/v1/carts/{cart}/items", json.dumps({**item, "to": "9999-12-31"}).encode(), None, 422, "to"),
        ("pricing", "POST", "/v1/estimates", json.dumps({**item, "to": "9999-12-31"}).encode(), None, 422, "to"),
        ("pricing", "POST", "/v1/estimates", json.dumps({**item, "reference_date": "0001-01-01"}).encode(), None, 422,
         "reference_date"),
    ]
    for aoi_id, _why in (("", "must not be empty"), (".", "not an id"), ("\x00", "NUL"), ("..", "not an id"),
                        ("a/b", "not an id")):
        body = json.dumps({**item, "aoi_id": aoi_id}).encode()
        cases += [("tiling", "POST", "/v1/tiles/search", json.dumps({"aoi_id": aoi_id}).encode(), None, 422, "aoi_id"),
                  ("pricing", "POST", "/v1/estimates", body, None, 422, "aoi_id"),
                  ("cart", "POST", f"/v1/carts/{cart}/items", body, None, 422, "aoi_id")]
    wrong = []
    for service, method, path, body, headers, status, what in cases:
        sent = await s.send(service, method, path, body, "application/json" if body and body[:1] in b"{[" else
                            "text/plain", headers)
        problem = json.loads(sent.answer) if sent.status else {}
        fields = [e.get("field") for e in problem.get("errors", [])] + [problem.get("field")]
        if sent.status != status or (what != problem.get("code") and what not in fields):
            wrong.append(str(sent))
    # top-ups up to the largest balance (999,999,999,999.99) are taken; one cent more is a conflict
    credits = f"/v1/accounts/{s.account}/credits"
    taken = [await s.send("checkout", "POST", credits, json.dumps({"amount": a}).encode(), headers=s.admin)
             for a in ("999999999999.00", "0.99")]
    over = await s.send("checkout", "POST", credits, b'{"amount": "0.01"}', headers=s.admin)
    after = await s.send("checkout", "GET", credits, headers=s.admin)
    assert [t.status for t in taken] == [200, 200], taken
    assert over.status == 409 and json.loads(over.answer)["code"] == "balance_limit", over
    assert json.loads(after.answer)["balance"] == "999999999999.99"
    await s.aclose()
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------------------ body fuzzing

KEYS = ["aoi_id", "wkt", "geojson", "GeoJson", "tile_guids", "minitile_guids", "model", "constellations", "from",
        "to", "image_frequency", "reference_date", "storage_months", "api_requests", "tile_deduplication",
        "simulated_spend", "items", "item_id", "cart_id", "accepted_total", "amount", "overdraft_limit",
        "skip_review", "bbox", "intersects", "limit", "cursor", "name", "repair", "dissolve", "zones", "cells",
        "dates", "include_minitiles", "footprints", "type", "coordinates", "features", "\x00", "\ud800", ""]
STRINGS = ["", ".", "..", "\x00", "a\x00b", "\ud800", "\udfff x", "x" * 100_000, "%00", "../../x", "\u202e",
           "'; SELECT 1; --", "9999-12-31", "0001-01-01", "2025-02-30", "1e999", "NaN", "POLYGON((", WKT,
           "Stratus2", "Sentinel1", "2025-04-01", "-1", "999999999999.99", "1000000000000"]
INTS = [0, -1, 1, 7, 2**31, 2**63, -(2**63) - 1, 10**12, 10**30, 10**400]
RAW = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1" + "0" * 5000, "1e-999", "-0", "1.5", "0.001"]


def json_value(rng: random.Random, depth: int = 0) -> str:
    """Random JSON text (sometimes not quite JSON: NaN, 1e999, 5,000-digit numbers)."""
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice(["null", "true", "false"])
    if kind == 1:
        return json.dumps(rng.choice(INTS))
    if kind == 2:
        return rng.choice(RAW)
    if kind in (3, 4):
        return json.dumps(rng.choice(STRINGS))  # ensure_ascii: lone surrogates go out as \ud800 escapes
    if kind == 5:
        return "[" + ",".join(json_value(rng, depth + 1) for _ in range(rng.randrange(4))) + "]"
    if kind == 6:
        return "{" + ",".join(f"{json.dumps(rng.choice(KEYS))}:{json_value(rng, depth + 1)}"
                              for _ in range(rng.randrange(5))) + "}"
    return rng.choice([deep(600), deep(1100), deep(5000), '{"a":' * 1100 + "1" + "}" * 1100])


def random_body(rng: random.Random) -> tuple[bytes, bool]:
    """(body, whether it must be refused whatever the route): bytes, JSON, deep nesting."""
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randbytes(rng.randrange(1, 300)), False  # may happen to be a number, or WKT-ish text
    if kind == 1:
        return b"\xff\xfe" + rng.randbytes(20), True  # not UTF-8
    if kind == 2:
        return rng.choice([deep(1100), deep(20_000), '{"a":' * 1100 + "1" + "}" * 1100]).encode(), True
    return json_value(rng).encode("utf-8", "surrogatepass"), False


SENTINEL = "\x01hole\x01"


def mutated(rng: random.Random, template: dict) -> bytes:
    """The template with one field (maybe nested one level) replaced by a random value, or a random key added."""
    doc = json.loads(json.dumps(template))
    target = doc
    nested = [k for k, v in doc.items()
              if isinstance(v, dict) or (isinstance(v, list) and v and isinstance(v[0], dict))]
    if nested and rng.random() < 0.3:
        v = doc[rng.choice(nested)]
        target = v if isinstance(v, dict) else v[0]
    key = rng.choice(list(target) + [rng.choice(KEYS)])
    target[key] = SENTINEL
    return json.dumps(doc).replace(json.dumps(SENTINEL), json_value(rng)).encode("utf-8", "surrogatepass")


def write_routes(world, account: str) -> list[tuple[str, str, str, dict | None, str]]:
    """(service, method, path, a valid body to mutate, who) for every write route of the five services."""
    item = {"aoi_id": world["aoi"], **APRIL}
    cart, spare = world["cart"], world["spare_cart"]
    return [
        ("aoi", "POST", "/v1/aois", {"name": "fuzz", "wkt": WKT, "repair": False}, "user"),
        ("aoi", "POST", "/v1/aois:validate", {"type": "Polygon", "coordinates": [[[10, 50], [10.1, 50], [10.1, 50.1],
                                                                                   [10, 50]]]}, "user"),
        ("aoi", "POST", "/v1/aois:search", {"bbox": [9, 49, 11, 51], "limit": 5}, "user"),
        ("tiling", "POST", "/v1/tiles/search", {"bbox": [10.0, 50.0, 10.1, 50.1], "include_minitiles": False}, "user"),
        ("tiling", "POST", "/v1/tiles/optimize", {"wkt": WKT, "footprints": False}, "user"),
        ("tiling", "POST", "/v1/tiles/resolve", {"tile_guids": [world["guid"]], "minitile_guids": []}, "user"),
        ("tiling", "POST", "/v1/coverage/preview", {"model": "Stratus2", "constellations": APRIL["constellations"],
                                                    "cells": [world["guid"]], "dates": ["2025-04-01"]}, "user"),
        ("pricing", "POST", "/v1/estimates", {**item, "aoi_id": None, "wkt": WKT}, "user"),
        ("pricing", "POST", "/v1/estimates", {"items": [{**item, "item_id": "a"}], "simulated_spend": "0"}, "user"),
        ("cart", "POST", "/v1/carts", {}, "user"),
        ("cart", "POST", f"/v1/carts/{cart}/items", item, "user"),
        ("cart", "PATCH", f"/v1/carts/{cart}/items/{world['item']}", {"image_frequency": 3}, "user"),
        ("checkout", "POST", "/v1/checkouts", {"cart_id": spare, "accepted_total": "0.01"}, "user"),
        ("checkout", "POST", f"/v1/accounts/{account}/credits", {"amount": "1.00"}, "admin"),
        ("checkout", "PATCH", f"/v1/accounts/{account}", {"overdraft_limit": "0.00", "skip_review": False}, "admin"),
    ]


RANDOM_PER_ROUTE, MUTATIONS_PER_ROUTE = 60, 100


async def test_fuzzed_bodies_on_every_write_route_get_4xx_never_5xx(stack, world):
    s = Sender(stack, world["d"].account)
    started = time.monotonic()
    wrong = []
    routes = write_routes(world, s.account)
    for service, method, path, template, who in routes:
        rng = random.Random(f"{service} {method} {path.split('/')[2]} {json.dumps(template)[:20]}")  # reproducible
        headers = s.admin if who == "admin" else s.h
        cases = [(*random_body(rng), "application/json") for _ in range(RANDOM_PER_ROUTE)]
        cases += [(mutated(rng, template), False, "application/json") for _ in range(MUTATIONS_PER_ROUTE)]
        if service == "aoi" and path == "/v1/aois":  # the import also reads text and binary uploads
            cases += [(rng.randbytes(rng.randrange(1, 400)), False, ct)
                      for ct in ("text/plain", "application/octet-stream", "application/zip") for _ in range(5)]
            cases += [(b"PK\x03\x04" + rng.randbytes(200), True, "application/octet-stream")]
        for body, must_refuse, ctype in cases:
            h = {**headers, "Idempotency-Key": uuid.uuid4().hex} if service == "checkout" else headers
            sent = await s.send(service, method, path, body, ctype, h)
            if sent.status is None or sent.status >= 500 or (must_refuse and not 400 <= sent.status < 500):
                wrong.append(str(sent))
    elapsed = time.monotonic() - started
    n = len(s.sent)
    await s.aclose()
    print(f"\nbody fuzz: {n} requests on {len(routes)} write routes in {elapsed:.1f} s, {len(wrong)} wrong")
    assert n >= len(routes) * (RANDOM_PER_ROUTE + MUTATIONS_PER_ROUTE)
    assert not wrong, f"{len(wrong)} of {n}:\n" + "\n".join(wrong[:15])


async def test_hostile_path_segments_and_query_parameters_get_4xx(stack, world):
    s = Sender(stack, world["d"].account)
    segments = ["%00", "%ED%A0%80", "%2E", "%2E%2E", "..%2F..", "a%2Fb", "x" * 3000, "%FF", "%C0%AF", "'"]
    routes = [("aoi", "GET", "/v1/aois/{}"), ("cart", "GET", "/v1/carts/{}"), ("cart", "POST", "/v1/carts/{}/items"),
              ("cart", "PATCH", f"/v1/carts/{world['cart']}/items/{{}}"),
              ("cart", "DELETE", f"/v1/carts/{world['cart']}/items/{{}}"), ("tiling", "GET", "/v1/tiles/{}"),
              ("tiling", "GET", "/v1/tiles/{}/minitiles"), ("pricing", "GET", "/v1/quotes/{}"),
              ("checkout", "GET", "/v1/checkouts/{}"), ("checkout", "GET", "/v1/orders/{}"),
              ("checkout", "POST", "/v1/orders/{}:cancel"), ("checkout", "GET", "/v1/accounts/{}/credits")]
    queries = [("aoi", "/v1/aois?{}", ("limit", "cursor", "bbox", "intersects")),
               ("cart", "/v1/carts?{}", ("status",)),
               ("tiling", "/v1/coverage?bbox=9,49,10,50&{}", ("model", "footprints")),
               ("tiling", "/v1/coverage?{}", ("bbox",)),
               ("checkout", "/v1/orders?{}", ("status", "model", "limit")),
               ("checkout", "/v1/orders/overlay?bbox=9,49,10,50&{}", ("model", "from", "to", "date_match"))]
    values = ["%00", "a%00b", "%ED%A0%80", "-1", "99999999999999999999", "1e999", "nan", "9999-99-99", "x" * 5000]
    wrong = []
    for service, method, template in routes:
        for seg in segments:
            body = json.dumps({"image_frequency": 3}).encode() if method in ("POST", "PATCH") else None
            sent = await s.send(service, method, template.format(seg), body)
            if sent.status is None or not 400 <= sent.status < 500:
                wrong.append(str(sent))
    for service, template, names in queries:
        for name in names:
            for value in values:
                sent = await s.send(service, "GET", template.format(f"{name}={value}"))
                if sent.status is None or sent.status >= 500:
                    wrong.append(str(sent))
    await s.aclose()
    assert not wrong, "\n".join(wrong[:15])


# ------------------------------------------------------------------------------ forged tokens


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged_tokens() -> dict[str, str | None]:
    now = int(time.time())
    good = {"sub": "mallory", "account": "mallory", "admin": True, "iss": "tessera-dev", "iat": now, "exp": now + 600}
    private = (DEV_KEYS / "jwt_dev_private.pem").read_bytes()
    public = (DEV_KEYS / "jwt_dev_public.pem").read_bytes()
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    import hashlib
    import hmac

    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(good).encode())
    hs256 = f"{header}.{payload}." + _b64(hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    none = f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}."
    return {
        "none": None,
        "expired": jwt.encode({**good, "iat": now - 7200, "exp": now - 3600}, private, algorithm="RS256"),
        "another key": jwt.encode(good, other_key, algorithm="RS256"),
        "alg none": none,
        "HS256 with the public key": hs256,
        "wrong issuer": jwt.encode({**good, "iss": "someone-else"}, private, algorithm="RS256"),
        "no exp": jwt.encode({k: v for k, v in good.items() if k != "exp"}, private, algorithm="RS256"),
        "garbage": "not.a.token",
    }


PROTECTED = [("aoi", "GET", "/v1/aois"), ("aoi", "POST", "/v1/aois"), ("tiling", "POST", "/v1/tiles/search"),
             ("tiling", "GET", "/v1/coverage?bbox=9,49,10,50"), ("pricing", "GET", "/v1/models"),
             ("pricing", "POST", "/v1/estimates"), ("cart", "GET", "/v1/carts"), ("cart", "POST", "/v1/carts"),
             ("checkout", "GET", "/v1/orders"), ("checkout", "POST", "/v1/checkouts"),
             ("checkout", "POST", "/v1/accounts/mallory/credits"), ("checkout", "POST", "/v1/renewals:run")]


async def test_forged_tokens_get_401_on_every_service(stack):
    tokens = forged_tokens()
    wrong = []
    s = Sender(stack, "mallory")
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for service, method, path in PROTECTED:
            body = b'{"amount": "5.00", "cart_id": "x", "accepted_total": "1.00"}' if method == "POST" else None
            sent = await s.send(service, method, path, body, headers={**headers, "Idempotency-Key": "forged"})
            if sent.status != 401:
                wrong.append(f"{name}: {sent}")
    # and the real token of the same claims is accepted, so the 401s are about the forgery
    real = await s.send("pricing", "GET", "/v1/models", headers={"Authorization": f"Bearer {mint('mallory')}"})
    await s.aclose()
    assert real.status == 200
    assert not wrong, "\n".join(wrong)


# ------------------------------------------------------------------------------ cross-account


async def test_another_accounts_checkouts_orders_credits_aois_carts_and_quotes_are_not_found(stack, unique):
    owner, other = Dashboard(stack, f"owner-{unique}"), Dashboard(stack, f"other-{unique}")
    await owner.top_up("500.00")
    aoi = await owner.upload_aoi("box", json.dumps(BOX).encode(), "box.geojson")
    cart = await owner.new_cart()
    await owner.add_item(cart, {"aoi_id": aoi["id"], **APRIL})
    co = await owner.wait_checkout((await owner.checkout(cart, "159.33"))["id"])  # docs figure: EUR 159.33
    assert co["status"] == "completed", co
    [order_id] = co["order_ids"]
    quote = await stack["pricing"].client.post("/v1/estimates", json={"aoi_id": aoi["id"], **APRIL}, headers=owner.h)
    assert quote.status_code == 201, quote.text

    c = stack["checkout"].client
    foreign = [
        (c, "GET", f"/v1/checkouts/{co['id']}"), (c, "GET", f"/v1/orders/{order_id}"),
        (c, "POST", f"/v1/orders/{order_id}:cancel"), (c, "GET", f"/v1/accounts/{owner.account}/credits"),
        (stack["aoi"].client, "GET", f"/v1/aois/{aoi['id']}"), (stack["cart"].client, "GET", f"/v1/carts/{cart}"),
        (stack["pricing"].client, "GET", f"/v1/quotes/{quote.json()['quote_id']}"),
    ]
    for client, method, path in foreign:
        r = await client.request(method, path, headers=other.h)
        assert r.status_code == 404 and r.json()["code"] == "not_found", (method, path, r.status_code, r.text)
    # the credit routes that change an account are admin-only: another customer is refused, nothing moves
    for method, path, body in (("POST", f"/v1/accounts/{owner.account}/credits", {"amount": "1.00"}),
                               ("PATCH", f"/v1/accounts/{owner.account}", {"overdraft_limit": "1000.00"})):
        r = await c.request(method, path, json=body, headers=other.h)
        assert r.status_code == 403 and r.json()["code"] == "admin_required", r.text
    # lists and the overlay hold only the caller's own orders
    assert (await c.get("/v1/orders", headers=other.h)).json()["orders"] == []
    overlay = await c.get("/v1/orders/overlay?bbox=9.9,49.9,10.2,50.2", headers=other.h)
    assert overlay.status_code == 200 and overlay.json()["orders"] == []
    # the owner's order is untouched: still in Review, balance 500.00 - 159.33
    assert (await owner.order(order_id))["status"] == "Review"
    assert (await owner.credits())["balance"] == "340.67"


# ------------------------------------------------------------------------------ schema-driven (schemathesis)

EXAMPLES_PER_OPERATION = 25


def _openapi_fuzz(base_url: str, spec: dict, headers: dict) -> tuple[int, list[str]]:
    """Every operation of the spec with generated requests, valid and invalid by the schema: no 5xx and
    every status documented, each answer in its documented media type and matching its schema (problem
    documents included). Derandomized: the same requests every run."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )
    from schemathesis.generation import GenerationMode

    schema = schemathesis.openapi.from_dict(spec)
    calls, wrong = 0, []
    session = __import__("requests").Session()  # one kept connection, as a client would hold
    for result in schema.get_all_operations():
        operation = result.ok()
        strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                             operation.as_strategy(GenerationMode.NEGATIVE))

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), phases=["generate"])
        @given(case=strategy)
        def run(case):
            nonlocal calls
            calls += 1
            try:
                response = case.call(base_url=base_url, headers=headers, session=session, timeout=60)
                case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                          content_type_conformance, response_schema_conformance])
            except Exception as exc:  # noqa: BLE001 - every failure is collected and reported with its request
                wrong.append(f"{case.operation.label}: {type(exc).__name__}: {str(exc)[:300]}")

        run()
    session.close()
    return calls, wrong


@pytest.mark.parametrize("name", ["aoi", "tiling", "pricing", "cart", "checkout"])
async def test_openapi_generated_requests_get_no_5xx_and_only_documented_statuses(stack, name):
    import asyncio

    svc = stack[name]
    spec = (await svc.client.get("/openapi.json")).json()
    started = time.monotonic()
    admin = {"Authorization": f"Bearer {mint(f'schema-{name}', admin=True)}"}  # admin routes are reached too
    calls, wrong = await asyncio.to_thread(_openapi_fuzz, svc.base_url, spec, admin)
    print(f"\nschemathesis {name}: {calls} requests on {len(spec['paths'])} paths in "
          f"{time.monotonic() - started:.1f} s, {len(wrong)} wrong")
    assert calls >= len(spec["paths"]) * 5
    assert not wrong, "\n".join(wrong[:10])
