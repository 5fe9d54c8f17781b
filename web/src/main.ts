// The app shell: header (product name, credit balance, Guided tour), the left panel with the
// ordering sections, and the map filling the rest.
import "leaflet/dist/leaflet.css";
import "./style.css";
import { signIn } from "./auth";
import * as store from "./state";
import { createMap } from "./map";
import { mountOrderData } from "./views/orderData";
import { mountConfigure } from "./views/configure";
import { mountCart } from "./views/cart";
import { mountOrders } from "./views/orders";
import { mountBalance, mountTour } from "./views/tour";

export interface Ctx {
  map: import("leaflet").Map;
  /** Switch the left panel to a section (e.g. after Add to cart, show the Cart). */
  show(section: Section): void;
}

export type Section = "order" | "configure" | "cart" | "orders";
const SECTIONS: { id: Section; label: string }[] = [
  { id: "order", label: "Order Data" },
  { id: "configure", label: "Configure" },
  { id: "cart", label: "Cart" },
  { id: "orders", label: "Orders" },
];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function shell(root: HTMLElement) {
  root.innerHTML = "";
  const header = el("header", { class: "app-header" });
  const brand = el("h1", { class: "brand" }, "Tessera");
  const sub = el("span", { class: "brand-sub" }, "satellite imagery orders");
  const right = el("div", { class: "header-right" });
  const balance = el("output", { class: "balance", "aria-label": "Credit balance", "aria-live": "polite" }, "…");
  const tourBtn = el("button", { type: "button", class: "btn btn-ghost", id: "tour-button" }, "Guided tour");
  right.append(balance, tourBtn);
  header.append(brand, sub, right);

  const body = el("div", { class: "app-body" });
  const panel = el("aside", { class: "panel", "aria-label": "Ordering" });
  const tabs = el("div", { class: "tabs", role: "tablist", "aria-label": "Sections" });
  const sections = new Map<Section, { tab: HTMLButtonElement; pane: HTMLElement }>();
  for (const s of SECTIONS) {
    const tab = el("button", { type: "button", role: "tab", id: `tab-${s.id}`, "aria-controls": `pane-${s.id}`, class: "tab" }, s.label);
    const pane = el("section", { role: "tabpanel", id: `pane-${s.id}`, "aria-labelledby": `tab-${s.id}`, class: "pane", tabindex: "-1" });
    tabs.append(tab);
    sections.set(s.id, { tab, pane });
  }
  panel.append(tabs, ...[...sections.values()].map((s) => s.pane));
  const mapEl = el("main", { id: "map", class: "map", "aria-label": "Map" });
  body.append(panel, mapEl);
  root.append(header, body);

  const show = (id: Section, focus = false) => {
    for (const [sid, { tab, pane }] of sections) {
      const on = sid === id;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      pane.hidden = !on;
    }
    if (focus) sections.get(id)?.tab.focus();
  };
  const ids = SECTIONS.map((s) => s.id);
  for (const [sid, { tab }] of sections) {
    tab.addEventListener("click", () => show(sid));
    // Arrow keys move between tabs, as the ARIA tabs pattern expects.
    tab.addEventListener("keydown", (ev) => {
      const i = ids.indexOf(sid);
      let j = -1;
      if (ev.key === "ArrowRight" || ev.key === "ArrowDown") j = (i + 1) % ids.length;
      else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") j = (i - 1 + ids.length) % ids.length;
      else if (ev.key === "Home") j = 0;
      else if (ev.key === "End") j = ids.length - 1;
      if (j >= 0) {
        ev.preventDefault();
        show(ids[j]!, true);
      }
    });
  }
  show("order");
  const pane = (id: Section) => sections.get(id)!.pane;
  return { balance, tourBtn, mapEl, pane, show, panel };
}

function signedOut(root: HTMLElement) {
  root.innerHTML = "";
  const box = el("main", { class: "signed-out" });
  box.append(
    el("h1", {}, "Tessera"),
    el("p", {}, "You are not signed in. Open the dashboard with the URL that `make run` prints (it carries a local demo token), or mint one:"),
    el("pre", {}, ".venv/bin/python -m shared.auth mint --account demo\n# then open  http://127.0.0.1:8080/#token=<the token>"),
  );
  root.append(box);
}

async function start() {
  const root = document.getElementById("app")!;
  const { session } = await signIn();
  if (!session) {
    signedOut(root);
    return;
  }
  store.set({ session, account: session.account });
  const ui = shell(root);
  const map = createMap(ui.mapEl);
  const ctx: Ctx = { map, show: (s) => ui.show(s, true) };
  // A handle for the browser tests and bench/web.py (set the view, count drawn cells); not an API.
  (window as unknown as { __tessera: unknown }).__tessera = { map, store };
  mountOrderData(ui.pane("order"), ctx);
  mountConfigure(ui.pane("configure"), ctx);
  mountCart(ui.pane("cart"), ctx);
  mountOrders(ui.pane("orders"), ctx);
  mountBalance(ui.balance, ctx);
  mountTour(ui.tourBtn, ctx);
}

void start();
