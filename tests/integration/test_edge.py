"""The edge (deploy/local/edge.sh, Debian's nginx) in front of five fake services: every API prefix
reaches the service that owns it, the generated /config.json and /openapi.json are served, and any
other path is the dashboard's index.html, except missing bundles and unknown API paths."""
from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request

from tests.support.fake_http import ThreadedApp

REPO = Path(__file__).resolve().parents[2]
EDGE = REPO / "deploy/local/edge.sh"
RENDER = REPO / "deploy/edge/render.sh"

# every prefix the dashboard calls and the service that owns it (README.md, Services and topics)
ROUTES = {
    "/v1/aois": "aoi", "/v1/aois:validate": "aoi",
    "/v1/tiles/search": "tiling", "/v1/coverage": "tiling",
    "/v1/models": "pricing", "/v1/estimates": "pricing", "/v1/quotes/q1": "pricing",
    "/v1/carts/c1/items": "cart",
    "/v1/checkouts/x": "checkout", "/v1/orders/overlay": "checkout", "/v1/orders/o1:cancel": "checkout",
    "/v1/accounts/demo/credits": "checkout", "/v1/renewals:run": "checkout",
}


def fake_service(name: str) -> ThreadedApp:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PATCH", "DELETE"])
    async def echo(path: str, request: Request) -> dict[str, object]:
        body = await request.body()
        return {"service": name, "path": request.url.path, "query": request.url.query,
                "method": request.method, "body_bytes": len(body),
                "authorization": request.headers.get("authorization"),
                "correlation": request.headers.get("x-correlation-id")}

    server = ThreadedApp(app)
    server.start()
    return server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    services = {name: fake_service(name) for name in ("aoi", "tiling", "pricing", "cart", "checkout")}
    web = tmp_path_factory.mktemp("web")
    (web / "index.html").write_text("<!doctype html><title>Tessera</title><p>dashboard index</p>")
    (web / "api.html").write_text("<!doctype html><title>API</title><p>api docs page</p>")
    (web / "assets").mkdir()
    (web / "assets/main-abc123.js").write_text("console.log('tessera');\n" * 400)
    port = free_port()
    env = {**os.environ, "EDGE_PORT": str(port), "EDGE_DIR": str(tmp_path_factory.mktemp("edge")),
           "EDGE_WEB_ROOT": str(web), "EDGE_OIDC_ISSUER": "", "EDGE_OIDC_CLIENT_ID": "",
           **{f"{name.upper()}_PORT": str(s.port) for name, s in services.items()}}
    subprocess.run([str(EDGE), "start"], env=env, check=True, timeout=60)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        subprocess.run([str(EDGE), "stop"], env=env, check=False, timeout=30)
        for s in services.values():
            s.stop()


@pytest.mark.parametrize("path,service", ROUTES.items())
def test_every_prefix_reaches_its_service(edge, path, service):
    r = edge.get(path, params={"limit": "5"}, headers={"Authorization": "Bearer t"})
    assert r.status_code == 200, r.text
    seen = r.json()
    assert (seen["service"], seen["path"], seen["query"]) == (service, path, "limit=5")
    assert seen["authorization"] == "Bearer t"
    assert seen["correlation"]  # the edge starts one when the client sends none


def test_a_large_upload_passes_and_a_client_correlation_id_is_kept(edge):
    body = b"x" * (5 * 1024 * 1024)
    r = edge.post("/v1/aois", content=body, headers={"content-type": "application/octet-stream",
                                                      "X-Correlation-Id": "cid-1"})
    assert r.status_code == 200, r.text
    assert r.json()["body_bytes"] == len(body) and r.json()["correlation"] == "cid-1"


def test_a_body_over_the_upload_limit_is_a_problem(edge):
    r = edge.post("/v1/aois", content=b"x" * (22 * 1024 * 1024))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "request_too_large"


def test_config_json_says_demo_sign_in(edge):
    r = edge.get("/config.json")
    assert r.status_code == 200 and r.json() == {"auth": {"mode": "demo"}}
    assert "no-cache" in r.headers["cache-control"]


def test_openapi_json_is_the_merged_document(edge):
    r = edge.get("/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/v1/aois", "/v1/models", "/v1/carts", "/v1/checkouts"} <= set(paths)


def test_any_other_path_is_the_dashboard(edge):
    for path in ("/", "/orders/o-1", "/cart"):
        r = edge.get(path)
        assert r.status_code == 200 and "dashboard index" in r.text, path
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "api docs page" in edge.get("/docs").text


def test_missing_bundles_and_unknown_api_paths_are_404_not_the_page(edge):
    assert edge.get("/assets/main-gone.js").status_code == 404
    r = edge.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_bundles_are_gzipped_and_cached(edge):
    r = edge.get("/assets/main-abc123.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert "max-age" in r.headers["cache-control"]
    assert r.text.startswith("console.log('tessera');")  # decoded by the client from gzip


def render(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    upstreams = {f"{n}_UPSTREAM": "127.0.0.1:1" for n in ("AOI", "TILING", "PRICING", "CART", "CHECKOUT")}
    return subprocess.run(["sh", str(RENDER)], env={**os.environ, "EDGE_DIR": str(tmp_path), **upstreams, **env},
                          capture_output=True, text=True, timeout=30)


def test_oidc_settings_reach_config_json_and_the_csp(tmp_path):
    done = render(tmp_path, EDGE_OIDC_ISSUER="https://login.example.com/realms/tessera",
                  EDGE_OIDC_CLIENT_ID="tessera-dashboard")
    assert done.returncode == 0, done.stderr
    config = json.loads((tmp_path / "generated/config.json").read_text())
    assert config == {"auth": {"mode": "oidc", "issuer": "https://login.example.com/realms/tessera",
                               "client_id": "tessera-dashboard"}}
    assert "connect-src 'self' https://login.example.com;" in (tmp_path / "nginx.conf").read_text()


def test_half_an_oidc_setting_is_refused(tmp_path):
    done = render(tmp_path, EDGE_OIDC_ISSUER="https://login.example.com", EDGE_OIDC_CLIENT_ID="")
    assert done.returncode != 0 and "EDGE_OIDC_CLIENT_ID" in done.stderr
