"""The whole ordering flow in the dashboard, driven like a person would: mouse on the map, the file
picker, the controls found by their accessible names (the provider's labels), against the real
services behind the edge.

Figures: the README's box (10.0-10.1 E x 50.0-50.1 N, 79.6644 km²) with Stratus-2, April 2025,
frequency 3 from 2025-01-01 costs EUR 159.33 from zero spend (docs/domain.md, Pricing); after EUR
1,017.00 of spend in the month the same item falls in the 65 % bracket.
"""
from __future__ import annotations

import json
import re
import uuid

import pytest
from playwright.async_api import expect

from tests.browser.helpers import (
    APRIL,
    BOWTIE_KML,
    BOX_WKT,
    FIELD_KML,
    amount_re,
    api_call,
    area_re,
    body_json,
    centre,
    minitiles,
    request_json,
    tile_at,
    wait_text,
)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

AOI_VALIDATE = re.compile(r"/v1/aois:validate")
AOI_STORE = re.compile(r"/v1/aois")


# ------------------------------------------------------------------------------------------ steps


async def polygon_mode(dash) -> None:
    await dash.press("Order Data")
    await dash.press("Polygon")


async def _aoi_answers(dash, act, stored: bool):
    """Runs ``act`` and gives the service's answers: the dry run (validate), then the stored AOI (or None)."""
    async with api_call(dash.page, "POST", AOI_VALIDATE) as validated:
        if stored:
            async with api_call(dash.page, "POST", AOI_STORE) as saved:
                await act()
            return await validated.value, await saved.value
        await act()
    return await validated.value, None


async def import_file(dash, name: str, content: bytes, stored: bool = True):
    """Import through the file picker the Import control opens."""
    async def act():
        async with dash.page.expect_file_chooser(timeout=5_000) as chooser:
            await dash.press("Import")
        await (await chooser.value).set_files(files=[{"name": name, "mimeType": "application/octet-stream",
                                                       "buffer": content}])
    return await _aoi_answers(dash, act, stored)


async def drop_file(dash, name: str, content: str, stored: bool = True):
    """Drop a file on the map, as a file dragged from the desktop arrives."""
    async def act():
        dt = await dash.page.evaluate_handle(
            """([name, text]) => { const dt = new DataTransfer();
                 dt.items.add(new File([text], name, { type: "application/geo+json" })); return dt; }""",
            [name, content])
        target = dash.page.locator(".leaflet-container")
        for event in ("dragenter", "dragover", "drop"):
            await target.dispatch_event(event, {"dataTransfer": dt})
    return await _aoi_answers(dash, act, stored)


async def paste(dash, text: str, stored: bool = True):
    """Paste text into the Paste box and use it."""
    box = dash.page.locator("textarea:visible")
    if not await box.count():
        await dash.press("Paste")
    await box.last.fill(text)

    async def act():
        await dash.page.get_by_role("button", name=re.compile(r"^(Use|Validate|Submit|Apply|OK)\b", re.I)).first.click()
    return await _aoi_answers(dash, act, stored)


async def draw(dash, corners: list[tuple[float, float]], stored: bool = True):
    """Draw a polygon with mouse clicks, closing it on its first vertex."""
    async def act():
        await dash.press("Draw")
        for lat, lon in [*corners, corners[0]]:
            await dash.click_at(lat, lon)
            await dash.page.wait_for_timeout(120)
    return await _aoi_answers(dash, act, stored)


async def grid_view(dash, lat: float, lon: float, zoom: int) -> None:
    """Moves the map and waits for the grid of the new viewport."""
    async with api_call(dash.page, "POST", "/v1/tiles/search") as resp:
        await dash.set_view(lat, lon, zoom)
    assert (await resp.value).status == 200
    await dash.page.wait_for_timeout(200)


async def configure(dash, cfg: dict) -> None:
    page = dash.page
    await dash.press("Configure")
    model = page.get_by_label("Model", exact=True)
    try:
        await model.select_option(value=cfg["model"], timeout=2_000)
    except Exception:  # noqa: BLE001 - options labelled by the display name
        await model.select_option(label=cfg["model"].replace("Stratus", "Stratus-"))
    await page.get_by_label("From", exact=True).fill(cfg["from"])
    await page.get_by_label("To", exact=True).fill(cfg["to"])
    await page.get_by_label("ImageFrequency", exact=True).fill(cfg["image_frequency"])
    await page.get_by_label("ReferenceDate", exact=True).fill(cfg["reference_date"])


async def add_to_cart(dash) -> dict:
    """Add to cart; gives the item as the page sent it."""
    async with api_call(dash.page, "POST", re.compile(r"/v1/carts/[^/]+/items")) as resp:
        await dash.press("Add to cart")
    r = await resp.value
    assert r.status in (200, 201), await r.text()
    return request_json(r)


async def checkout(dash):
    """Checkout; gives the checkout's request (accepted total, Idempotency-Key)."""
    async with api_call(dash.page, "POST", "/v1/checkouts") as resp:
        await dash.press("Checkout")
    return await resp.value


async def balance_shows(dash, amount: str) -> None:
    await expect(dash.page.get_by_label("Credit balance", exact=True)).to_have_text(amount_re(amount),
                                                                                   timeout=20_000)


async def box_in_cart(dash, cfg: dict = APRIL) -> dict:
    """The README's box pasted, configured and added to the cart; gives the item sent."""
    await polygon_mode(dash)
    _, saved = await paste(dash, BOX_WKT)
    assert saved.status == 201, await saved.text()
    await configure(dash, cfg)
    return await add_to_cart(dash)


# ------------------------------------------------------------------------------------------ tests


async def test_polygon_mode_draw_import_paste_and_a_refused_file(dash):
    page = dash.page
    await polygon_mode(dash)
    await dash.shot("polygon-mode")

    # draw a box with mouse events, closing the ring on its first vertex
    await dash.set_view(50.05, 10.05, 11)
    checked, saved = await draw(dash, [(50.02, 10.02), (50.02, 10.08), (50.08, 10.08), (50.08, 10.02)])
    assert checked.status == 200 and saved.status == 201, await checked.text()
    report = (await body_json(saved))["report"]
    await wait_text(page, area_re(report["parts"][0]["area_km2"]))
    await wait_text(page, re.compile("billable", re.I))
    await dash.shot("drawn")

    # a KML file through the file input
    checked, saved = await import_file(dash, "field.kml", FIELD_KML)
    assert saved.status == 201, await saved.text()
    assert (await body_json(saved))["source_format"].lower().startswith("kml")
    await wait_text(page, area_re((await body_json(saved))["report"]["parts"][0]["area_km2"]))
    await dash.shot("imported-kml")

    # a GeoJSON file dropped on the map
    field = {"type": "Polygon", "coordinates": [[[11.2, 48.2], [11.25, 48.2], [11.25, 48.25], [11.2, 48.25],
                                                 [11.2, 48.2]]]}
    checked, saved = await drop_file(dash, "dropped.geojson", json.dumps(field))
    assert saved.status == 201, await saved.text()
    await wait_text(page, area_re((await body_json(saved))["report"]["parts"][0]["area_km2"]))
    await dash.shot("dropped-geojson")

    # WKT pasted
    checked, saved = await paste(dash, BOX_WKT)
    assert saved.status == 201, await saved.text()
    await wait_text(page, area_re(79.6644))
    await dash.shot("pasted-wkt")

    # a refused file: the service's message next to it, the failing coordinate marked on the map
    refused, _ = await import_file(dash, "bowtie.kml", BOWTIE_KML, stored=False)
    assert refused.status == 422
    problem = await body_json(refused)
    lon, lat = problem["where"]["coordinate"]
    await expect(page.get_by_role("alert").filter(has_text=problem["detail"][:40]).first).to_be_visible()
    assert await dash.map_layers_near(lat, lon) >= 1, "the failing coordinate is not marked on the map"
    await dash.shot("refused-bowtie")


async def test_grid_mode_select_split_minitiles_and_optimise(dash):
    page = dash.page
    await dash.press("Order Data")
    await dash.press("Tiles / Minitiles")
    a, b, d = tile_at(50.2, 9.0), tile_at(50.2, 9.8), tile_at(50.7, 9.0)
    await grid_view(dash, 50.45, 9.4, 8)
    for t in (a, b):
        await dash.click_at(*centre(t))
        await page.wait_for_timeout(150)
    await wait_text(page, area_re(2 * 2621.44))  # two whole tiles: 5,242.88 km²
    await dash.shot("two-tiles")

    # the Split button (keyboard and touch) splits the tile clicked last, keeping it selected
    await dash.press("Split")
    await page.wait_for_timeout(300)
    await wait_text(page, re.compile(r"\b256\b"))
    await wait_text(page, area_re(2 * 2621.44))
    await dash.shot("split-button")

    # right-click splits an unselected tile into unselected minitiles; two of them are then selected
    await dash.click_at(*centre(d), button="right")
    await page.wait_for_timeout(300)
    picked = minitiles(d)[:2]  # the south-west corner of the tile, next to each other
    mid_lat, mid_lon = centre(picked[0])
    await grid_view(dash, mid_lat, mid_lon, 12)
    for m in picked:
        await dash.click_at(*centre(m))
        await page.wait_for_timeout(150)
    await wait_text(page, area_re(2 * 2621.44 + 2 * 10.24))
    await dash.shot("minitiles")

    await configure(dash, APRIL)
    item = await add_to_cart(dash)
    guids = set(item.get("tile_guids") or []) | set(item.get("minitile_guids") or [])
    assert a.guid in guids
    assert {m.guid for m in minitiles(b)} <= guids
    assert {m.guid for m in picked} <= guids
    assert len(guids) == 1 + 256 + 2
    await dash.shot("grid-in-cart")


async def test_optimise_turns_a_drawn_polygon_into_tiles_and_minitiles(dash):
    page = dash.page
    await polygon_mode(dash)
    await dash.set_view(50.05, 10.05, 11)
    await draw(dash, [(50.01, 10.01), (50.01, 10.09), (50.09, 10.09), (50.09, 10.01)])
    await dash.press("Tiles / Minitiles")
    async with api_call(page, "POST", "/v1/tiles/optimize") as resp:
        await dash.press("Optimise")
    r = await resp.value
    assert r.status == 200, await r.text()
    best = await body_json(r)
    assert best["minitile_guids"] or best["tile_guids"]
    await wait_text(page, area_re(best["tiles_km2"] + best["minitiles_km2"]))
    await dash.shot("optimised")

    await configure(dash, APRIL)
    item = await add_to_cart(dash)
    assert set(item.get("tile_guids") or []) | set(item.get("minitile_guids") or []) == \
        set(best["tile_guids"]) | set(best["minitile_guids"])


async def test_configure_cart_checkout_orders_cancel_refunds(dash):
    page, account = dash.page, dash.account
    item = await box_in_cart(dash)
    await dash.shot("configured")

    # the Cart's total is what the API's estimate says for the same payload
    expected = (await account.estimate(item))["total"]
    assert expected == "159.33"
    await dash.press("Cart")
    await wait_text(page, amount_re(expected))
    await dash.shot("cart")

    co = await checkout(dash)
    assert co.status == 202, await co.text()
    sent = request_json(co)
    assert sent["accepted_total"] == expected
    assert co.request.headers.get("idempotency-key")
    co_done = await dash.account.wait_checkout((await body_json(co))["id"])
    assert co_done["status"] == "completed", co_done
    await wait_text(page, re.compile(r"completed", re.I), timeout=60_000)
    await balance_shows(dash, "4840.67")
    await dash.shot("checkout-completed")

    await dash.press("Orders")
    row = page.get_by_role("row").filter(has_text="Review")
    row = row.or_(page.get_by_role("listitem").filter(has_text="Review")).first
    await expect(row).to_be_visible(timeout=20_000)
    await dash.shot("orders-review")

    # the order on the map: the Existing orders overlay of the viewport
    await dash.press("Order Data")
    await dash.set_view(50.05, 10.05, 10)
    before = await dash.map_layers_near(50.05, 10.05)  # the pasted box itself
    async with api_call(page, "GET", "/v1/orders/overlay") as resp:
        await dash.press("Existing orders")
    overlay = await body_json(await resp.value)
    [order_id] = co_done["order_ids"]
    assert order_id in json.dumps(overlay)
    await page.wait_for_timeout(300)
    assert await dash.map_layers_near(50.05, 10.05) > before, "the order's footprint is not on the map"
    await dash.shot("existing-orders")
    await dash.press("Existing orders")  # off again
    await dash.press("Orders")

    await row.click()
    page.on("dialog", lambda d: d.accept())
    async with api_call(page, "POST", re.compile(r"/v1/orders/[^/]+:cancel")) as resp:
        await page.get_by_role("button", name=re.compile(r"^Cancel( order)?$", re.I)).first.click()
        confirm = page.get_by_role("dialog").get_by_role("button",
                                                         name=re.compile(r"^(Cancel order|Confirm|Yes)", re.I))
        try:
            await confirm.first.click(timeout=1_500)
        except Exception:  # noqa: BLE001 - no confirmation step
            pass
    assert (await resp.value).status == 200
    await wait_text(page, re.compile(r"Cancel(l)?ed", re.I))
    assert await account.balance() == "5000.00"
    await balance_shows(dash, "5000.00")
    await dash.shot("cancelled-refunded")


@pytest.mark.credits("100.00")
async def test_insufficient_credit_names_the_amount_missing(dash):
    # EUR 100.00 of credit: 159.33 due, 59.33 missing
    await balance_shows(dash, "100.00")
    await box_in_cart(dash)
    await dash.press("Cart")
    await wait_text(dash.page, amount_re("159.33"))
    co = await checkout(dash)
    assert co.status == 202
    await wait_text(dash.page, re.compile(r"insufficient|not enough credit", re.I), timeout=60_000)
    await wait_text(dash.page, amount_re("59.33"))
    await dash.shot("insufficient-credit")
    assert await dash.account.balance() == "100.00"


async def test_a_changed_price_shows_the_new_total_and_confirms_again(dash):
    page, account = dash.page, dash.account
    item = await box_in_cart(dash)
    await dash.press("Cart")
    await wait_text(page, amount_re("159.33"))
    await dash.shot("cart-before")

    # meanwhile the account spends EUR 1,017.00 elsewhere (another cart, through the API): the box now
    # falls in the month's 65 % bracket
    tile = tile_at(52.0, 9.0)
    r = await account.post("/v1/carts", {})
    cart_id = r.json()["id"]
    r = await account.post(f"/v1/carts/{cart_id}/items", {"tile_guids": [tile.guid], "constellations": [
        "Sentinel1", "Sentinel2", "Landsat89"], **{**APRIL, "image_frequency": 3}})
    assert r.status_code in (200, 201), r.text
    r = await account.post("/v1/checkouts", {"cart_id": cart_id, "accepted_total": "1017.00"},
                           **{"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 202, r.text
    other = r.json()["id"]
    for _ in range(150):
        st = await account.get(f"/v1/checkouts/{other}")
        if st["status"] in ("completed", "failed"):
            break
        await page.wait_for_timeout(200)
    assert st["status"] == "completed", st
    new_total = (await account.estimate(item))["total"]
    assert new_total != "159.33"

    co = await checkout(dash)
    assert request_json(co)["accepted_total"] == "159.33"
    await wait_text(page, re.compile(r"price.{0,20}changed", re.I), timeout=60_000)
    await wait_text(page, amount_re(new_total))
    await dash.shot("price-changed")

    # confirm the new total: the second checkout accepts it and completes
    async with api_call(page, "POST", "/v1/checkouts") as resp:
        await page.get_by_role("button", name=re.compile(r"confirm|checkout", re.I)).last.click()
    again = await resp.value
    assert request_json(again)["accepted_total"] == new_total
    await wait_text(page, re.compile(r"completed", re.I), timeout=60_000)
    await dash.shot("confirmed")


async def test_main_views_have_no_serious_accessibility_violations(dash):
    page = dash.page
    found = {}
    for view in ("Order Data", "Tiles / Minitiles", "Configure", "Cart", "Orders"):
        if view == "Tiles / Minitiles":
            await dash.press("Order Data")
        await dash.press(view)
        if view == "Tiles / Minitiles":  # with the grid drawn
            await grid_view(dash, 50.45, 9.4, 8)
        await page.wait_for_load_state("networkidle")
        await dash.shot(view.replace(" / ", "-").replace(" ", "-").lower())
        found[view] = await dash.axe(view)
    await dash.press("Guided tour")
    await page.wait_for_timeout(300)
    await dash.shot("guided-tour")
    found["Guided tour"] = await dash.axe("tour")
    assert not any(found.values()), found
