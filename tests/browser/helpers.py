"""Inputs and small steps the browser tests share: files, numbers as the page may format them, and
the ordering steps driven through the controls' accessible names (interface 5)."""
from __future__ import annotations

import contextlib
import json
import re
from decimal import Decimal

from playwright.async_api import Page, Response
from playwright.async_api import TimeoutError as PlaywrightTimeout
from pyproj import Transformer
from shapely.geometry import mapping

from shared.grid import CellId
from shared.grid.geometry import cell_footprint, children

# The README's box: 10.0-10.1 E x 50.0-50.1 N, 79.6644 km² (docs/domain.md, Pricing)
BOX_WKT = "POLYGON((10.0 50.0, 10.1 50.0, 10.1 50.1, 10.0 50.1, 10.0 50.0))"
APRIL = {"model": "Stratus2", "from": "2025-04-01", "to": "2025-04-30", "image_frequency": "3",
         "reference_date": "2025-01-01"}


def kml(coords: list[tuple[float, float]], name: str = "field") -> bytes:
    ring = " ".join(f"{x},{y}" for x, y in coords)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>{name}</name>
<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs></Polygon>
</Placemark></Document></kml>""".encode()


FIELD_KML = kml([(11.0, 48.0), (11.06, 48.0), (11.06, 48.04), (11.0, 48.04), (11.0, 48.0)], "field")
# a bow-tie: its ring crosses itself at 12.05 E 47.05 N, which the service names and the map marks
BOWTIE_KML = kml([(12.0, 47.0), (12.1, 47.1), (12.1, 47.0), (12.0, 47.1), (12.0, 47.0)], "bowtie")


def amount_re(value: str | Decimal | float, decimals: int = 2) -> re.Pattern[str]:
    """The number as a page may print it: with or without thousands separators (comma, space, thin space)."""
    q = f"{Decimal(str(value)):.{decimals}f}"
    whole, _, frac = q.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    sep = r"[,\u202f\u00a0 ]?"
    body = sep.join(groups) + (rf"\.{frac}" if frac else "")
    return re.compile(rf"(?<![\d.,]){body}(?![\d])")


def area_re(km2: float) -> re.Pattern[str]:
    """An area as shown: rounded to 2, 1 or 0 decimals."""
    options = [amount_re(round(km2, d), d).pattern for d in (2, 1)]
    return re.compile("|".join(f"(?:{o})" for o in options))


_TO_UTM32 = Transformer.from_crs(4326, 32632, always_xy=True)


def tile_at(lat: float, lon: float) -> CellId:
    """The zone 32N tile that holds the position (the test areas lie inside zone 32's own band)."""
    e, n = _TO_UTM32.transform(lon, lat)
    return CellId(32, False, int(e // 51_200), int(n // 51_200))


def centre(cell: CellId) -> tuple[float, float]:
    p = cell_footprint(cell).representative_point()
    return p.y, p.x


def minitiles(tile: CellId) -> list[CellId]:
    return children(tile)


def footprint_geojson(cell: CellId) -> dict:
    return mapping(cell_footprint(cell))


@contextlib.asynccontextmanager
async def api_call(page: Page, method: str, path: str | re.Pattern[str], timeout: float = 30_000):
    """Waits for the page's request to the API (method and path, a regex or a prefix) and gives its response."""
    rx = path if isinstance(path, re.Pattern) else re.compile(re.escape(path))

    def match(r: Response) -> bool:
        u = r.url.split("://", 1)[-1]
        p = u[u.find("/"):].split("?")[0]
        return r.request.method == method and bool(rx.fullmatch(p) or (not isinstance(path, re.Pattern)
                                                                        and p.startswith(path)))

    async with page.expect_response(match, timeout=timeout) as info:
        yield info


async def body_json(resp: Response) -> dict:
    try:
        return await resp.json()
    except Exception:  # noqa: BLE001 - an empty or non-JSON body
        return {}


def request_json(resp: Response) -> dict:
    data = resp.request.post_data
    return json.loads(data) if data else {}


async def text_of(page: Page) -> str:
    return await page.locator("body").inner_text()


async def wait_text(page: Page, pattern: re.Pattern[str] | str, timeout: float = 15_000, scope=None) -> None:
    """Until the page (or ``scope``) shows the text, a regex or a plain string."""
    loc = (scope or page.locator("body"))
    rx = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
    try:
        await page.wait_for_function(
            "([sel, src, flags]) => new RegExp(src, flags).test(document.querySelector(sel)?.innerText ?? '')",
            arg=["body", rx.pattern, "i" if rx.flags & re.IGNORECASE else ""], timeout=timeout)
    except PlaywrightTimeout:
        shown = (await loc.inner_text())[:3000]
        raise AssertionError(f"the page does not show /{rx.pattern}/; it shows:\n{shown}") from None
