// The `Existing orders` overlay: the account's orders in the viewport (GET /v1/orders/overlay),
// filtered by model, date range (fully within / any overlap) and status. The service refuses a
// viewport over 400 square degrees, so a wider view shows a hint instead of asking.
import L from "../leafletGlobal";
import type { Ctx } from "../main";
import { api, problemText } from "../api/client";
import type { OverlayBody, OverlayOrder } from "../api/types";
import { canvas } from "../map";
import { esc } from "../format";

const MAX_SQ_DEG = 400;
const MAX_PAGES = 5;

const COLOURS: Record<string, string> = {
  Review: "#b35c00",
  Canceled: "#6b6b6b",
  Completed: "#1e6b32",
  UpToDate: "#1e6b32",
};

export function mountOverlay(host: HTMLElement, ctx: Ctx): void {
  const map = ctx.map;
  host.innerHTML = `
    <div class="overlay-head">
      <button type="button" class="btn" data-act="toggle" aria-pressed="false" aria-controls="overlay-filters">Existing orders</button>
      <span data-status class="muted small" aria-live="polite"></span>
    </div>
    <div id="overlay-filters" class="overlay-filters" hidden>
      <div class="grid2">
        <div><label for="ov-model">Order model</label><select id="ov-model"><option value="">Any model</option></select></div>
        <div><label for="ov-status">Order status</label>
          <select id="ov-status"><option value="">Any status</option><option value="live">Live</option><option value="completed">Completed</option></select></div>
        <div><label for="ov-from">Orders from</label><input id="ov-from" type="date" /></div>
        <div><label for="ov-to">Orders to</label><input id="ov-to" type="date" /></div>
      </div>
      <fieldset class="inline-set"><legend>Dates</legend>
        <label class="inline"><input type="radio" name="ov-match" value="overlap" checked /> Any overlap</label>
        <label class="inline"><input type="radio" name="ov-match" value="within" /> Fully within</label>
      </fieldset>
      <div data-problem></div>
    </div>`;
  const $ = <T extends HTMLElement>(sel: string) => host.querySelector<T>(sel)!;
  const toggle = $<HTMLButtonElement>('[data-act="toggle"]');
  const filters = $("#overlay-filters");
  const statusEl = $("[data-status]");
  const problemEl = $("[data-problem]");
  const modelSel = $<HTMLSelectElement>("#ov-model");
  const statusSel = $<HTMLSelectElement>("#ov-status");
  const fromIn = $<HTMLInputElement>("#ov-from");
  const toIn = $<HTMLInputElement>("#ov-to");
  const layer = L.layerGroup();
  let on = false;
  let abort: AbortController | null = null;
  let timer: number | undefined;
  let modelsLoaded = false;

  async function loadModels() {
    if (modelsLoaded) return;
    modelsLoaded = true;
    const { data } = await api.GET("/v1/models");
    const models = ((data as { models?: Record<string, unknown>[] } | undefined)?.models ?? []);
    for (const m of models) {
      const id = String(m["model"] ?? m["id"] ?? m["name"] ?? "");
      if (!id) continue;
      const opt = document.createElement("option");
      opt.value = id;
      opt.textContent = String(m["name"] ?? id);
      modelSel.append(opt);
    }
  }

  function draw(orders: OverlayOrder[]) {
    for (const o of orders) {
      const colour = COLOURS[o.status] ?? "#0b5cad";
      L.geoJSON(o.footprint as GeoJSON.GeoJsonObject, {
        renderer: canvas,
        style: { color: colour, weight: 2, dashArray: "3 3", fillColor: colour, fillOpacity: 0.12 },
      } as L.GeoJSONOptions)
        .bindTooltip(
          `<strong>${esc(o.model)}</strong> · ${esc(o.status)}<br>${esc(o.from)} → ${esc(o.to ?? "recurring")}<br>${esc(o.amount)} ${esc(o.currency)}`,
          { sticky: true },
        )
        .addTo(layer);
    }
  }

  async function refresh() {
    if (!on) return;
    abort?.abort();
    layer.clearLayers();
    problemEl.innerHTML = "";
    const b = map.getBounds();
    const w = Math.max(-180, b.getWest()), e = Math.min(180, b.getEast());
    const s = Math.max(-90, b.getSouth()), n = Math.min(90, b.getNorth());
    if ((e - w) * (n - s) > MAX_SQ_DEG) {
      statusEl.textContent = "Zoom in to see existing orders (the view is wider than 400 square degrees).";
      return;
    }
    abort = new AbortController();
    const match = host.querySelector<HTMLInputElement>('input[name="ov-match"]:checked')?.value as "within" | "overlap";
    statusEl.textContent = "Loading orders…";
    let cursor: string | undefined;
    let count = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const { data, error } = await api
        .GET("/v1/orders/overlay", {
          params: {
            query: {
              bbox: `${w},${s},${e},${n}`,
              model: modelSel.value || undefined,
              status: (statusSel.value || undefined) as "live" | "completed" | undefined,
              from: fromIn.value || undefined,
              to: toIn.value || undefined,
              date_match: match,
              limit: 200,
              cursor,
            },
          },
          signal: abort.signal,
        })
        .catch((err: unknown) => ({ data: undefined, error: err }));
      if (error || !data) {
        if ((error as Error | undefined)?.name === "AbortError") return;
        statusEl.textContent = "";
        problemEl.innerHTML = `<div class="alert" role="alert">${esc(problemText(error))}</div>`;
        return;
      }
      const body = data as unknown as OverlayBody;
      draw(body.orders);
      count += body.orders.length;
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
    statusEl.textContent = `${count} order${count === 1 ? "" : "s"} in view.`;
  }

  const schedule = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void refresh(), 250);
  };

  toggle.addEventListener("click", () => {
    on = !on;
    toggle.setAttribute("aria-pressed", String(on));
    filters.hidden = !on;
    if (on) {
      layer.addTo(map);
      map.on("moveend", schedule);
      void loadModels();
      void refresh();
    } else {
      abort?.abort();
      layer.remove();
      map.off("moveend", schedule);
      statusEl.textContent = "";
    }
  });
  for (const el of [modelSel, statusSel, fromIn, toIn]) el.addEventListener("change", schedule);
  for (const r of host.querySelectorAll<HTMLInputElement>('input[name="ov-match"]')) r.addEventListener("change", schedule);
}
