// Orders: the list with status, one order's detail (configuration, image dates, amount charged,
// attribution notices), cancel in Review, stop a recurring order's renewal. The map's `Existing
// orders` overlay is WEB-A's (overlay.ts).
import type { Ctx } from "../main";
import { api } from "../api/client";
import {
  call, constellationName, modelName, nodes, emit, eur, facts, h, isoTime, km2, on, onShown, problemDetail, refreshBalance, windowText,
  type OrderDetail, type OrderSummary,
} from "./common";

interface CancelAnswer {
  order_id: string;
  result: "canceled" | "renewal_stopped";
  refunded?: string;
  last_month?: string;
  detail?: string;
}

const FINAL = new Set(["Canceled", "Completed"]);

export function mountOrders(pane: HTMLElement, _ctx: Ctx): void {
  pane.innerHTML = "";
  const filter = h("select", { id: "orders-filter" },
    h("option", { value: "" }, "All"), h("option", { value: "live" }, "Live"), h("option", { value: "completed" }, "Completed"));
  const status = h("p", { role: "status", class: "muted" });
  const alert = h("div", { role: "alert", class: "form-alert" });
  const list = h("div", { class: "orders-list" });
  const detail = h("section", { class: "order-detail", "aria-label": "Order detail", tabindex: "-1" });
  const dialog = h("dialog", { class: "confirm", "aria-labelledby": "cancel-title" });
  pane.append(h("h2", {}, "Orders"),
    h("div", { class: "field inline-field" }, h("label", { for: "orders-filter" }, "Show"), filter),
    status, alert, list, detail, dialog);

  let selected: string | null = null;
  let seq = 0;

  const load = async () => {
    const mine = ++seq;
    const st = filter.value as "" | "live" | "completed";
    const r = await call<{ orders: OrderSummary[] }>(api.GET("/v1/orders", {
      params: { query: st ? { status: st, limit: 100 } : { limit: 100 } },
    }));
    if (mine !== seq) return;
    if (!r.ok) {
      alert.textContent = `The orders could not be read: ${problemDetail(r.problem)}`;
      return;
    }
    alert.textContent = "";
    renderList(r.data.orders);
    if (selected) await openDetail(selected, false);
  };

  const renderList = (orders: OrderSummary[]) => {
    list.innerHTML = "";
    status.textContent = orders.length ? `${orders.length} order${orders.length === 1 ? "" : "s"}` : "No orders yet.";
    if (!orders.length) return;
    const body = h("tbody", {});
    for (const o of orders) {
      const open = h("button", { type: "button", class: "btn btn-small", "aria-label": `Details of order ${o.id.slice(0, 8)}` }, "Details");
      open.addEventListener("click", (ev) => {
        ev.stopPropagation();
        void openDetail(o.id, true);
      });
      const row = h("tr", { class: o.id === selected ? "selected" : "" },
        h("td", {}, isoTime(o.created_at).slice(0, 10)),
        h("td", {}, modelName(o.model)),
        h("td", {}, o.recurring ? `from ${o.from}, recurring` : `${o.from} to ${o.to}`),
        h("td", { class: "num" }, eur(o.amount)),
        h("td", {}, h("span", { class: `status status-${o.status}` }, o.status)),
        h("td", {}, open));
      row.addEventListener("click", () => void openDetail(o.id, true));
      body.append(row);
    }
    list.append(h("div", { class: "table-scroll" }, h("table", { class: "report orders" },
      h("caption", { class: "sr-only" }, "Your orders, newest first"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Ordered"), h("th", { scope: "col" }, "Model"), h("th", { scope: "col" }, "Window"),
        h("th", { scope: "col", class: "num" }, "Amount"), h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
      body)));
  };

  const confirmCancel = (o: OrderDetail): Promise<boolean> =>
    new Promise((resolve) => {
      const stop = o.status !== "Review";
      const yes = h("button", { type: "button", class: "btn btn-primary" }, stop ? "Yes, stop the renewal" : "Yes, cancel order");
      const no = h("button", { type: "button", class: "btn" }, stop ? "Keep renewing" : "Keep the order");
      dialog.replaceChildren(
        h("h3", { id: "cancel-title" }, stop ? "Stop this order's renewal?" : "Cancel this order?"),
        h("p", {}, stop
          ? "The order keeps running until the end of this month and will not renew."
          : `The order is cancelled in full and ${eur(o.amount)} goes back to your credit.`),
        h("div", { class: "toolbar" }, yes, no));
      const close = (v: boolean) => {
        dialog.close();
        resolve(v);
      };
      yes.addEventListener("click", () => close(true));
      no.addEventListener("click", () => close(false));
      dialog.addEventListener("cancel", () => resolve(false), { once: true });
      dialog.showModal();
      no.focus();
    });

  const cancel = async (o: OrderDetail, button: HTMLButtonElement, result: HTMLElement) => {
    if (!(await confirmCancel(o))) return;
    button.disabled = true;
    const r = await call<CancelAnswer>(api.POST("/v1/orders/{order_id}:cancel", { params: { path: { order_id: o.id } } }));
    if (!r.ok) {
      result.replaceChildren(h("p", { class: "alert", role: "alert" }, problemDetail(r.problem)));
      button.disabled = false;
      return;
    }
    const a = r.data;
    const text = a.result === "canceled"
      ? `Order canceled: ${eur(a.refunded)} refunded to your credit.`
      : a.detail ?? `Renewal stopped: the order runs until the end of ${a.last_month}.`;
    await refreshBalance();
    emit("orders");
    await load();
    detail.querySelector(".action-result")?.replaceChildren(h("p", { class: "ok", role: "status" }, text));
  };

  const openDetail = async (id: string, focus: boolean) => {
    selected = id;
    for (const tr of list.querySelectorAll("tbody tr")) tr.classList.remove("selected");
    const r = await call<OrderDetail>(api.GET("/v1/orders/{order_id}", { params: { path: { order_id: id } } }));
    if (!r.ok) {
      detail.replaceChildren(h("p", { class: "alert", role: "alert" }, problemDetail(r.problem)));
      return;
    }
    const o = r.data;
    const c = o.configuration;
    const result = h("div", { class: "action-result" });
    const actions = h("div", { class: "toolbar" });
    if (o.status === "Review") {
      const b = h("button", { type: "button", class: "btn btn-danger" }, "Cancel order");
      b.addEventListener("click", () => void cancel(o, b, result));
      actions.append(b);
    } else if (o.recurring && !o.renewal_stopped_after && !FINAL.has(o.status)) {
      const b = h("button", { type: "button", class: "btn btn-danger" }, "Stop renewal");
      b.addEventListener("click", () => void cancel(o, b, result));
      actions.append(b);
    }
    const area = o.aoi
      ? km2(o.aoi.parts.reduce((s, p) => s + Number(p.billable_km2 ?? p.area_km2 ?? 0), 0))
      : o.cells ? km2(o.cells.reduce((s, p) => s + Number(p.area_km2 ?? 0), 0)) : null;
    const note = o.status === "Review" ? "In Review: it can still be cancelled in full."
      : o.renewal_stopped_after ? `Renewal stopped: it runs until the end of ${o.renewal_stopped_after}.`
      : o.recurring && !FINAL.has(o.status) ? "Past Review: only its next renewal can be stopped."
      : o.status === "Canceled" ? "Canceled." : "Past Review: it can no longer be cancelled.";
    detail.replaceChildren(...nodes(
      h("h3", {}, `Order ${o.id.slice(0, 8)}`),
      facts([
        ["Status", o.status],
        ["Order id", o.id],
        ["Ordered", isoTime(o.created_at)],
        ["Model", modelName(o.model)],
        ["Constellations", o.constellations.map(constellationName).join(", ")],
        ["Mode", o.mode === "grid" ? `grid, ${o.cells?.length ?? 0} cells` : `polygon, ${o.aoi?.parts.length ?? 0} part(s)`],
        ["Area", area],
        ["Window", windowText(o.from, o.to)],
        ["Every", `${c.image_frequency} day(s)${c.reference_date ? ` from ${c.reference_date}` : ""}`],
        ["Storage", `${c.storage_months ?? 1} month(s)`],
        ["API requests", String(c.api_requests ?? 1)],
        ["Deduplication", o.mode === "grid" ? (c.tile_deduplication ? "on" : "off") : null],
        ["Amount charged", eur(o.price.total)],
      ]),
      h("p", { class: "muted" }, note),
      actions,
      result,
      o.charges.length ? h("h4", {}, "Charges") : null,
      o.charges.length ? h("ul", {}, ...o.charges.map((ch) => h("li", {}, `${ch.month}: ${eur(ch.amount)} (${ch.status})`))) : null,
      h("h4", {}, `Image dates (${o.image_dates.length})`),
      h("p", { class: "dates" }, o.image_dates.join(", ") || "—"),
      h("h4", {}, "Attribution"),
      h("p", { class: "muted" }, "Outputs built from this order carry these notices when they leave your organisation:"),
      h("ul", { class: "attribution" }, ...o.attribution.map((n) => h("li", {}, n))),
      h("h4", {}, "Status history"),
      h("ol", {}, ...o.status_history.map((s) => h("li", {}, `${isoTime(s.at)}: ${s.from ? `${s.from} → ` : ""}${s.to}${s.detail ? ` (${s.detail})` : ""}`))),
    ));
    for (const tr of list.querySelectorAll<HTMLTableRowElement>("tbody tr")) {
      if (tr.querySelector(`[aria-label="Details of order ${id.slice(0, 8)}"]`)) tr.classList.add("selected");
    }
    if (focus) detail.focus();
  };

  filter.addEventListener("change", () => void load());
  on("orders", () => void load());
  onShown(pane, () => void load());
  void load();
}
