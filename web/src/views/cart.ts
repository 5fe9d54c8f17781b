// Cart: its items and the live estimate (lines per part or cell group, month and tier bracket, image
// dates, totals, quote expiry), removing an item, and the way to Checkout (checkout.ts).
import type { Ctx } from "../main";
import { api } from "../api/client";
import * as store from "../state";
import {
  call, constellationName, modelName, nodes, eur, facts, h, isoTime, km2, newKey, on, onShown, percent, problemDetail, windowText,
  type Cart, type CartItem, type Estimate,
} from "./common";
import { mountCheckout } from "./checkout";

function itemTitle(item: CartItem, n: number): string {
  if (item.mode === "polygon") {
    const parts = item.aoi?.parts?.length ?? 0;
    return `Item ${n}: polygon AOI${parts ? `, ${parts} part${parts === 1 ? "" : "s"}` : ""}`;
  }
  const cells = item.cells ?? [];
  const tiles = cells.filter((c) => (c.level ?? "tile") === "tile").length;
  const minis = cells.length - tiles;
  return `Item ${n}: grid, ${tiles} tile${tiles === 1 ? "" : "s"} and ${minis} minitile${minis === 1 ? "" : "s"}`;
}

function itemArea(item: CartItem): string | null {
  if (item.mode === "polygon") {
    const t = item.aoi?.totals;
    const area = t?.billable_km2 ?? t?.area_km2;
    if (area !== undefined) return km2(area);
    const sum = (item.aoi?.parts ?? []).reduce((s, p) => s + Number(p.billable_km2 ?? p.area_km2 ?? 0), 0);
    return sum ? km2(sum) : null;
  }
  const sum = (item.cells ?? []).reduce((s, c) => s + Number(c.area_km2 ?? 0), 0);
  return sum ? km2(sum) : null;
}

function estimateTable(est: Estimate, number: Map<string, number>): HTMLElement {
  const table = h("table", { class: "report lines" },
    h("caption", { class: "sr-only" }, "Estimate lines"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Line"),
      h("th", { scope: "col", class: "num" }, "Area"),
      h("th", { scope: "col", class: "num" }, "Images"),
      h("th", { scope: "col", class: "num" }, "Amount"))));
  const body = h("tbody", {});
  for (const ln of est.lines) {
    const n = number.get(ln.item);
    const discount = Number(ln.discount ?? 0);
    const bracket = ln.kind === "imagery" && ln.tier !== null
      ? `tier ${ln.tier}, ${discount ? `${percent(ln.discount)} off` : "no discount"}`
      : ln.kind;
    const when = ln.charged_at_checkout ? `charged ${ln.month} at checkout` : `charged ${ln.month} at renewal`;
    body.append(h("tr", {},
      h("td", {}, `${n ? `Item ${n} · ` : ""}${ln.label}`, h("br"), h("span", { class: "hint" }, `${when}; ${bracket}`)),
      h("td", { class: "num" }, ln.kind === "imagery" ? km2(ln.area_km2) : "—"),
      h("td", { class: "num" }, String(ln.image_dates ?? "")),
      h("td", { class: "num" }, eur(ln.amount))));
  }
  table.append(body);
  return h("div", { class: "table-scroll" }, table);
}

function imageDates(est: Estimate, number: Map<string, number>): HTMLElement {
  const box = h("div", { class: "image-dates" });
  for (const d of est.image_dates) {
    const n = number.get(d.item);
    const range = d.dates.length ? `${d.dates[0]} to ${d.dates[d.dates.length - 1]}` : "none";
    const summary = `${n ? `Item ${n}: ` : ""}${d.dates.length} image date${d.dates.length === 1 ? "" : "s"}, ${range} (charged ${d.month})`;
    box.append(h("details", {}, h("summary", {}, summary), h("p", { class: "dates" }, d.dates.join(", "))));
  }
  return box;
}

export function mountCart(pane: HTMLElement, ctx: Ctx): void {
  pane.innerHTML = "";
  const body = h("div", { class: "cart-body" });
  const status = h("p", { role: "status", class: "muted" });
  const alert = h("div", { role: "alert", class: "form-alert" });
  const checkoutBox = h("div", { class: "checkout-box" });
  pane.append(h("h2", {}, "Cart"), status, alert, body, checkoutBox);

  const checkout = mountCheckout(checkoutBox, ctx);
  let seq = 0;
  let current: Cart | null = null;

  const render = (cart: Cart | null) => {
    current = cart;
    body.innerHTML = "";
    if (!cart || !cart.items.length) {
      status.textContent = "Your cart is empty: configure an area and press Add to cart.";
      return;
    }
    status.textContent = `${cart.items.length} item${cart.items.length === 1 ? "" : "s"}${cart.status === "open" ? "" : ` (cart ${cart.status.replace("_", " ")})`}`;
    const number = new Map(cart.items.map((i, k) => [i.id, k + 1]));
    const list = h("ol", { class: "cart-items" });
    for (const [k, item] of cart.items.entries()) {
      const cfg = item.item;
      const remove = h("button", { type: "button", class: "btn btn-small", "aria-label": `Remove item ${k + 1}` }, "Remove");
      remove.disabled = cart.status !== "open";
      remove.addEventListener("click", () => void removeItem(cart.id, item.id, remove));
      list.append(h("li", { class: "cart-item" },
        h("h3", {}, itemTitle(item, k + 1)),
        facts([
          ["Area", itemArea(item)],
          ["Model", modelName(cfg.model)],
          ["Constellations", (cfg.constellations ?? []).map(constellationName).join(", ")],
          ["Window", windowText(cfg.from, cfg.to)],
          ["Every", `${cfg.image_frequency} day${cfg.image_frequency === 1 ? "" : "s"}${cfg.reference_date ? ` from ${cfg.reference_date}` : ""}`],
          ["Storage", `${cfg.storage_months ?? 1} month${(cfg.storage_months ?? 1) === 1 ? "" : "s"}`],
          ["API requests", String(cfg.api_requests ?? 1)],
          ["Deduplication", item.mode === "grid" ? (cfg.tile_deduplication ? "on" : "off") : null],
          ["Item price", item.estimate ? eur(item.estimate.total) : null],
        ]),
        item.warnings.length ? h("ul", { class: "warnings" }, ...item.warnings.map((w) => h("li", {}, w))) : null,
        remove));
    }
    body.append(list);

    const est = cart.estimate;
    if (!est) {
      body.append(h("p", { class: "alert" }, cart.estimate_note ?? "No estimate right now."));
      checkout.setCart(cart, null);
      return;
    }
    body.append(...nodes(
      h("h3", {}, "Estimate"),
      estimateTable(est, number),
      h("h3", {}, "Image dates"),
      imageDates(est, number),
      est.warnings.length ? h("ul", { class: "warnings" }, ...est.warnings.map((w) => h("li", {}, w))) : null,
      h("h3", {}, "Totals"),
      facts([
        ["Due at checkout", h("strong", { class: "total" }, eur(est.due_at_checkout))],
        ["Total", est.total !== est.due_at_checkout ? `${eur(est.total)} (later months charged at each renewal)` : null],
        ["Quote valid until", isoTime(est.expires_at)],
        ["Price book", est.price_book_version],
      ]),
    ));
    checkout.setCart(cart, est);
  };

  const load = async () => {
    const mine = ++seq;
    const cartId = store.get().cartId;
    alert.textContent = "";
    if (!cartId) {
      render(null);
      checkout.setCart(null, null);
      return;
    }
    if (!current) status.textContent = "Loading the cart…";
    const r = await call<Cart>(api.GET("/v1/carts/{cart_id}", { params: { path: { cart_id: cartId } } }));
    if (mine !== seq) return; // a newer load answers
    if (!r.ok) {
      if (r.status === 404) {
        store.set({ cartId: null });
        return;
      }
      alert.textContent = `The cart could not be read: ${problemDetail(r.problem)}`;
      return;
    }
    render(r.data);
  };

  const removeItem = async (cartId: string, itemId: string, button: HTMLButtonElement) => {
    button.disabled = true;
    const r = await call<unknown>(api.DELETE("/v1/carts/{cart_id}/items/{item_id}", {
      params: { path: { cart_id: cartId, item_id: itemId }, header: { "Idempotency-Key": newKey() } },
    }));
    if (!r.ok) {
      alert.textContent = problemDetail(r.problem);
      button.disabled = false;
      return;
    }
    status.textContent = "Item removed.";
    await load();
  };

  on("cart", () => void load());
  store.subscribe((_s, changed) => {
    if (changed.has("cartId")) void load();
  });
  onShown(pane, () => void load());
  // the quote expires: a cart left open shows the price it would be charged now
  setInterval(() => {
    if (!pane.hidden && current?.estimate && Date.parse(current.estimate.expires_at) < Date.now()) void load();
  }, 30_000);
  void load();
}
