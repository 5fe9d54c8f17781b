"""Dashboard benchmark: prints figures, asserts nothing.

    .venv/bin/python bench/web.py

Needs Debian's Chromium (deploy/local/browser.sh) and builds web/dist if needed (deploy/local/web.sh).
The built dashboard is served by a small local server of this script (with a demo /config.json and no
services: the API calls fail, the map does not need them), and driven in the same headless Chromium
the browser tests use. Each figure comes with a baseline measured in the same run:

1. Bundle size, gzipped (level 9, as the edge's gzip would at best): what the first load fetches
   (the entry, its preloads and CSS), the lazily loaded chunks (the Natural Earth basemap ...), and
   Leaflet's own dist/leaflet.js next to it.
2. Time to first map paint: navigation start until the first frame in which the map's basemap
   canvas holds pixels (median of 5 cold loads), next to a bare page that loads only Leaflet and
   paints one canvas rectangle.
3. Frame time while panning with 10,000 minitiles drawn (Leaflet's canvas renderer, as the grid view
   draws them): requestAnimationFrame intervals during mouse drags across the map, p50 / p95 / max,
   next to the same drags over the same map with no minitiles.
"""

from __future__ import annotations

import gzip
import http.server
import re
import statistics
import subprocess
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from shared.auth import mint  # noqa: E402
from shared.grid import CellId  # noqa: E402
from shared.grid.geometry import cell_footprint, children  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "dist"
LEAFLET = ROOT / "web" / "node_modules" / "leaflet" / "dist"
CHROMIUM = "/usr/bin/chromium"
LOADS = 5

# Leaflet 1.9 publishes itself as window.L; the page's map is caught as it is created (as in the tests).
MAP_HOOK = """
(() => { let real; Object.defineProperty(window, "L", { configurable: true, get() { return real; },
  set(v) { real = v; try { v.Map.addInitHook(function () { window.__tesseraMap = this; }); } catch (e) {} } }); })();
"""

# Resolves with performance.now() of the first frame where a canvas of the map has a painted pixel.
FIRST_PAINT = """
() => new Promise((resolve) => {
  const probe = document.createElement("canvas"); probe.width = probe.height = 24;
  const ctx = probe.getContext("2d", { willReadFrequently: true });
  const painted = (c) => { if (!c.width || !c.height) return false; ctx.clearRect(0, 0, 24, 24);
    ctx.drawImage(c, 0, 0, 24, 24); const d = ctx.getImageData(0, 0, 24, 24).data;
    for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; };
  const tick = (t) => {
    for (const c of document.querySelectorAll(".leaflet-container canvas")) if (painted(c)) return resolve(t);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})
"""

BARE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>bare Leaflet</title>
<link rel="stylesheet" href="/__bench/leaflet.css"><style>html,body,#m{height:100%;margin:0}</style></head>
<body><div id="m"></div><script src="/__bench/leaflet.js"></script>
<script src="/__bench/bare.js"></script></body></html>"""
BARE_JS = """const m = L.map("m", { preferCanvas: true }).setView([48, 10], 4);
L.rectangle([[40, 0], [55, 20]], { weight: 0, fillOpacity: 1 }).addTo(m);"""


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 9))


def kib(n: int) -> str:
    return f"{n / 1024:8.1f} KiB"


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=str(DIST), **k)

    def log_message(self, *a):  # quiet
        pass

    def _send(self, body: bytes, ctype: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - http.server's name
        path = self.path.split("?")[0].split("#")[0]
        if path == "/config.json":
            return self._send(b'{"auth": {"mode": "demo"}}', "application/json")
        if path.startswith("/v1/"):
            return self._send(b'{"status": 503, "title": "no services in the benchmark"}',
                              "application/problem+json", 503)
        if path == "/__bench/bare.html":
            return self._send(BARE_PAGE.encode(), "text/html")
        if path == "/__bench/bare.js":
            return self._send(BARE_JS.encode(), "application/javascript")
        if path.startswith("/__bench/leaflet."):
            f = LEAFLET / path.rsplit("/", 1)[1]
            return self._send(f.read_bytes(), "text/css" if f.suffix == ".css" else "application/javascript")
        if not (DIST / path.lstrip("/")).is_file():
            self.path = "/index.html"  # the SPA fallback, as the edge does
        return super().do_GET()

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    do_POST = do_GET


def bundle() -> None:
    html = (DIST / "index.html").read_text()
    first = set(re.findall(r'(?:src|href)="/(assets/[^"]+)"', html))
    assets = [p for p in sorted((DIST / "assets").iterdir()) if p.suffix in (".js", ".css")]
    docs = {p for p in assets if p.name.startswith("api-")}  # the API docs page (/docs), not the dashboard
    initial = [DIST / f for f in sorted(first)]
    lazy = [p for p in assets if p not in docs and str(p.relative_to(DIST)) not in first]
    raw = sum(p.stat().st_size for p in initial)
    leaflet = gz(LEAFLET / "leaflet.js")
    print("1. bundle, gzipped (level 9)")
    for p in initial:
        print(f"   first load   {p.name:42s} {kib(gz(p))}")
    print(f"   first load total ({kib(raw).strip()} raw)                     {kib(sum(gz(p) for p in initial))}")
    for p in lazy:
        print(f"   lazy chunk   {p.name:42s} {kib(gz(p))}")
    print(f"   dashboard total (first load + lazy chunks)                 "
          f"{kib(sum(gz(p) for p in initial + lazy))}")
    print(f"   API docs page (/docs, separate entry)                     {kib(sum(gz(p) for p in docs))}")
    print(f"   baseline: Leaflet's own dist/leaflet.js                   {kib(leaflet)}"
          f"   (first load = {sum(gz(p) for p in initial) / leaflet:.1f}x Leaflet)")


def first_paint(browser, base: str, token: str) -> None:
    def load(url: str, hook: bool) -> float:
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        if hook:
            ctx.add_init_script(MAP_HOOK)
        page = ctx.new_page()
        page.goto(url, wait_until="commit")
        t = page.evaluate(FIRST_PAINT)
        ctx.close()
        return t

    dash = [load(f"{base}/#token={token}", True) for _ in range(LOADS)]
    bare = [load(f"{base}/__bench/bare.html", False) for _ in range(LOADS)]
    print(f"2. time to first map paint (navigation start -> first painted map canvas frame), median of {LOADS}")
    print(f"   dashboard (basemap drawn)          {statistics.median(dash):7.0f} ms   "
          f"(min {min(dash):.0f}, max {max(dash):.0f})")
    print(f"   baseline: bare Leaflet + 1 shape   {statistics.median(bare):7.0f} ms   "
          f"(min {min(bare):.0f}, max {max(bare):.0f})")


def minitile_rings(n: int = 10_000) -> list[list[list[float]]]:
    """n minitile footprints (zone 32N, around 9-12 E, 46-50 N) as [lat, lon] rings for Leaflet."""
    rings = []
    for col in range(10, 20):
        for row in range(100, 110):
            for m in children(CellId(32, False, col, row)):
                rings.append([[y, x] for x, y in cell_footprint(m).exterior.coords])
                if len(rings) == n:
                    return rings
    return rings


PAN = """
async ([rings, strokes]) => {
  const map = window.__tesseraMap;
  map.setView([47.6, 10.6], 9, { animate: false });
  if (rings.length) {
    const g = L.featureGroup();
    const style = { weight: 1, color: "#1d4ed8", fillColor: "#3b82f6", fillOpacity: 0.35 };
    for (const r of rings) L.polygon(r, style).addTo(g);
    g.addTo(map);
    window.__benchGroup = g;
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  window.__frames = []; let last = performance.now(); window.__panning = true;
  const tick = (t) => { window.__frames.push(t - last); last = t; if (window.__panning) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
}
"""


def panning(browser, base: str, token: str, rings) -> None:
    def run(with_rings) -> list[float]:
        ctx = browser.new_context(viewport={"width": 1400, "height": 900})
        ctx.add_init_script(MAP_HOOK)
        page = ctx.new_page()
        page.goto(f"{base}/#token={token}")
        page.wait_for_function("() => !!window.__tesseraMap")
        page.wait_for_timeout(1500)  # the basemap chunk has arrived
        box = page.evaluate("() => { const r = window.__tesseraMap.getContainer().getBoundingClientRect();"
                            " return [r.left, r.top, r.width, r.height]; }")
        cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
        page.evaluate(PAN, [with_rings, 0])
        for i in range(8):  # eight drag strokes of 300 px, back and forth, 30 mouse moves each
            dx = 300 if i % 2 == 0 else -300
            page.mouse.move(cx - dx / 2, cy)
            page.mouse.down()
            page.mouse.move(cx + dx / 2, cy + (40 if i % 4 < 2 else -40), steps=30)
            page.mouse.up()
        page.wait_for_timeout(300)
        frames = page.evaluate("() => { window.__panning = false; return window.__frames.slice(1); }")
        ctx.close()
        return frames

    loaded = run(rings)
    empty = run([])
    print("3. frame time while panning (8 mouse drags of 300 px; requestAnimationFrame intervals)")
    for name, f in ((f"{len(rings):,} minitiles drawn (canvas)", loaded), ("baseline: no minitiles", empty)):
        print(f"   {name:34s} p50 {pct(f, 50):6.1f} ms   p95 {pct(f, 95):6.1f} ms   max {max(f):6.1f} ms   "
              f"({len(f)} frames)")


def main() -> None:
    subprocess.run([str(ROOT / "deploy" / "local" / "browser.sh")], check=True)
    built = subprocess.run([str(ROOT / "deploy" / "local" / "web.sh"), "build"]).returncode == 0
    if not built:
        if not (DIST / "index.html").is_file():
            sys.exit("web/dist could not be built (deploy/local/web.sh build)")
        print("WARNING: deploy/local/web.sh build failed: measuring the web/dist built before")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    token = mint("bench-web")
    bundle()
    rings = minitile_rings()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            first_paint(browser, base, token)
            panning(browser, base, token, rings)
        finally:
            browser.close()
            server.shutdown()


if __name__ == "__main__":
    main()
