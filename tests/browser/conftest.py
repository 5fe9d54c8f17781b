"""The dashboard in Debian's headless Chromium, behind the edge, against the five real services.

One session starts the services on the test ports, builds the dashboard (deploy/local/web.sh build,
while the services start), and runs an edge (nginx) on its own port in front of them: the page is
served from one origin exactly as `make run` serves it. Each test gets a fresh account with credits,
a fresh browser context and the page opened with `#token=<JWT>`; at its end no console error may have
been logged. Screenshots of every step go to .local/test-output/screenshots/ (git-ignored).
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from shared.auth import mint
from tests.support.infra import ROOT
from tests.support.services import PORTS, running

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
EDGE_PORT = int(os.environ.get("TESSERA_TEST_EDGE_PORT", str(min(PORTS.values()) - 1 + 80)))
SHOTS = ROOT / ".local" / "test-output" / "screenshots"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORT = {"width": 1400, "height": 900}

# Leaflet 1.9 always publishes itself as window.L (the drawing plugin needs it); catching that moment
# lets a test read the page's map (to aim mouse events at coordinates, and to look at what is drawn)
# without the dashboard exporting anything for tests.
MAP_HOOK = """
(() => {
  let real;
  Object.defineProperty(window, "L", {
    configurable: true,
    get() { return real; },
    set(v) {
      real = v;
      try { v.Map.addInitHook(function () { window.__tesseraMap = this; }); } catch (e) { /* not Leaflet */ }
    },
  });
})();
"""


def _edge_env(edge_dir: Path) -> dict[str, str]:
    return dict(os.environ, EDGE_PORT=str(EDGE_PORT), EDGE_DIR=str(edge_dir), AOI_PORT=str(PORTS["aoi"]),
                TILING_PORT=str(PORTS["tiling"]), PRICING_PORT=str(PORTS["pricing"]), CART_PORT=str(PORTS["cart"]),
                CHECKOUT_PORT=str(PORTS["checkout"]))


def _build_dashboard() -> None:
    if os.environ.get("TESSERA_TEST_WEB_BUILT") == "1":  # a developer's knob: test web/dist as it is
        return
    r = subprocess.run([str(ROOT / "deploy" / "local" / "web.sh"), "build"], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"deploy/local/web.sh build failed ({r.returncode}):\n"
                           f"{r.stdout[-4000:]}\n{r.stderr[-4000:]}")


@pytest.fixture(scope="package")
async def site(database_url, kafka_bootstrap):
    """The edge's URL, in front of the five services and the freshly built dashboard.

    Package-scoped: its services join the same consumer groups as the other suites' stacks on the
    same broker and database, so they must be gone before those run (the fault tests kill a service
    and expect nobody else to answer for it)."""
    env = {"CHECKOUT_STEP_TIMEOUT_SECONDS": "45", "CHECKOUT_RENEWAL_INTERVAL_SECONDS": "3600"}
    build = asyncio.create_task(asyncio.to_thread(_build_dashboard))  # npm and vite while the services start
    # kept after the run (git-ignored): its access and error logs tell what the page's requests met
    edge_dir = ROOT / ".local" / "test-output" / f"edge-{EDGE_PORT}"
    shutil.rmtree(edge_dir, ignore_errors=True)
    try:
        async with running(["aoi", "tiling", "pricing", "cart", "checkout"], database_url, kafka_bootstrap,
                           env) as svcs:
            await build
            r = subprocess.run([str(ROOT / "deploy" / "local" / "edge.sh"), "start"], env=_edge_env(edge_dir),
                               capture_output=True, text=True)
            assert r.returncode == 0, f"edge.sh start failed:\n{r.stdout}\n{r.stderr}"
            try:
                yield Site(f"http://127.0.0.1:{EDGE_PORT}", svcs)
            finally:
                subprocess.run([str(ROOT / "deploy" / "local" / "edge.sh"), "stop"], env=_edge_env(edge_dir),
                               capture_output=True)
    finally:
        if not build.done():
            build.cancel()


class Site:
    def __init__(self, url: str, services: dict) -> None:
        self.url, self.services = url, services
        self.admin = {"Authorization": f"Bearer {mint('ops', admin=True)}"}

    async def account(self, credits: str | None = "5000.00") -> Account:
        acct = Account(self, f"acct-web-{uuid.uuid4().hex[:10]}")
        if credits is not None:
            await acct.top_up(credits)
        return acct


class Account:
    """A customer account and the API calls a test makes directly (through the edge, like the page)."""

    def __init__(self, site: Site, name: str) -> None:
        self.site, self.name = site, name
        self.token = mint(name)
        self.h = {"Authorization": f"Bearer {self.token}"}
        self.http = httpx.AsyncClient(base_url=site.url, timeout=60.0)

    async def top_up(self, amount: str) -> dict:
        r = await self.http.post(f"/v1/accounts/{self.name}/credits", json={"amount": amount}, headers=self.site.admin)
        assert r.status_code == 200, r.text
        return r.json()

    async def balance(self) -> str:
        r = await self.http.get(f"/v1/accounts/{self.name}/credits", headers=self.h)
        assert r.status_code == 200, r.text
        return r.json()["balance"]

    async def estimate(self, item: dict) -> dict:
        r = await self.http.post("/v1/estimates", json=item, headers=self.h)
        assert r.status_code in (200, 201), r.text
        return r.json()

    async def wait_checkout(self, checkout_id: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = await self.get(f"/v1/checkouts/{checkout_id}")
            if body["status"] in ("completed", "failed") or time.monotonic() > deadline:
                return body
            await asyncio.sleep(0.2)

    async def post(self, path: str, body: dict, **headers: str) -> httpx.Response:
        return await self.http.post(path, json=body, headers={**self.h, **headers})

    async def get(self, path: str, **params) -> dict:
        r = await self.http.get(path, params=params, headers=self.h)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture(scope="session")
async def browser():
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        await b.close()


class Dashboard:
    """One browser page of the dashboard, signed in as one account, with its console watched."""

    def __init__(self, page: Page, site: Site, account: Account, test_name: str) -> None:
        self.page, self.site, self.account = page, site, account
        self.errors: list[str] = []
        self.name = re.sub(r"[^A-Za-z0-9_]+", "_", test_name)[:80]
        self.step = 0
        self.started = time.monotonic()
        for old in SHOTS.glob(f"{self.name}-*"):  # a step's picture is of this run, never an older one
            old.unlink()

    def on_console(self, msg: ConsoleMessage) -> None:
        if msg.type != "error":
            return
        url = (msg.location or {}).get("url", "")
        # A service's refusal (4xx problem+json from /v1/...) is shown to the person by the page; Chromium
        # logs every non-2xx fetch as "Failed to load resource", which is not the page's error.
        if msg.text.startswith("Failed to load resource: the server responded with a status of 4") and "/v1/" in url:
            return
        self.errors.append(f"console: {msg.text} ({url})")

    async def open(self, fragment: str | None = None) -> None:
        await self.page.goto(f"{self.site.url}/#{fragment or 'token=' + self.account.token}")
        await self.page.wait_for_function("() => !!window.__tesseraMap", timeout=20_000)
        await self.page.wait_for_load_state("networkidle")

    async def shot(self, what: str) -> Path:
        self.step += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self.name}-{self.step:02d}-{what}.png"
        await self.page.screenshot(path=str(path))
        with (SHOTS / "timings.txt").open("a") as f:  # where a slow test spends its time
            f.write(f"{time.monotonic() - self.started:7.1f}s  {path.name}\n")
        return path

    # ---------------------------------------------------------------- finding controls (interface 5)
    def control(self, name: str, scope=None):
        """The control whose accessible name is exactly ``name``, whatever its role."""
        s = scope or self.page
        loc = s.get_by_role("button", name=name, exact=True)
        for role in ("tab", "radio", "link", "menuitem", "switch", "checkbox"):
            loc = loc.or_(s.get_by_role(role, name=name, exact=True))
        return loc.first

    async def press(self, name: str) -> None:
        await self.control(name).click()

    # ---------------------------------------------------------------- the map
    async def set_view(self, lat: float, lon: float, zoom: int) -> None:
        await self.page.evaluate("([lat, lon, z]) => { window.__tesseraMap.setView([lat, lon], z, {animate: false}); }",
                                 [lat, lon, zoom])
        await self.page.wait_for_timeout(150)

    async def point(self, lat: float, lon: float) -> tuple[float, float]:
        """The page coordinates of a position on the map (for mouse events)."""
        x, y = await self.page.evaluate(
            """([lat, lon]) => { const m = window.__tesseraMap; const p = m.latLngToContainerPoint([lat, lon]);
                 const r = m.getContainer().getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; }""",
            [lat, lon])
        return x, y

    async def click_at(self, lat: float, lon: float, button: str = "left") -> None:
        x, y = await self.point(lat, lon)
        await self.page.mouse.click(x, y, button=button)

    async def map_layers_near(self, lat: float, lon: float, tolerance_deg: float = 0.01) -> int:
        """How many layers on the map mark the position: a marker or circle on it, or a shape around it
        no larger than a part would be (the basemap's countries are left out)."""
        return await self.page.evaluate(
            """([lat, lon, tol]) => { let n = 0; window.__tesseraMap.eachLayer(l => {
                 if (l.options && l.options.pane === 'basemap') return;
                 if (l.getLatLng) {
                   const p = l.getLatLng();
                   if (Math.abs(p.lat - lat) <= tol && Math.abs(p.lng - lon) <= tol) n++;
                 } else if (l.getBounds && !l.getLayers) {
                   const b = l.getBounds();
                   if (b.isValid() && b.pad(0.01).contains([lat, lon]) && (b.getNorth() - b.getSouth()) < 5) n++;
                 }
               }); return n; }""",
            [lat, lon, tolerance_deg])

    # ---------------------------------------------------------------- accessibility
    async def axe(self, what: str) -> list[dict]:
        """axe-core's serious and critical violations on the page as it is now."""
        if not await self.page.evaluate("() => !!window.axe"):
            # the edge's CSP allows same-origin scripts only: axe is served as if from the edge
            await self.page.route("**/__test__/axe.min.js", lambda route: route.fulfill(
                path=str(AXE), content_type="application/javascript"))
            await self.page.add_script_tag(url=f"{self.site.url}/__test__/axe.min.js")
        result = await self.page.evaluate("async () => await window.axe.run(document)")
        assert result["passes"], "axe-core checked nothing"  # it ran, on a page with content
        bad = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5]}
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
        if bad:
            (SHOTS / f"{self.name}-axe-{what}.json").write_text(json.dumps(bad, indent=1))
        return bad


@pytest.fixture
async def account(site, request):
    """A fresh account; @pytest.mark.credits("100.00") sets what it is topped up with (5,000.00)."""
    mark = request.node.get_closest_marker("credits")
    acct = await site.account(mark.args[0] if mark else "5000.00")
    yield acct
    await acct.http.aclose()


@pytest.fixture
async def dash(site, browser: Browser, account, request):
    context = await browser.new_context(viewport=VIEWPORT, locale="en-GB", timezone_id="UTC")
    context.set_default_timeout(15_000)
    await context.add_init_script(MAP_HOOK)
    page = await context.new_page()
    d = Dashboard(page, site, account, request.node.name)
    page.on("console", d.on_console)
    page.on("pageerror", lambda e: d.errors.append(f"pageerror: {e}"))
    await d.open()
    yield d
    try:
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            await d.shot("failure")
    finally:
        await context.close()
    assert not d.errors, "the page logged errors:\n" + "\n".join(d.errors)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
