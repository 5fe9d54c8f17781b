// Order Data: the mode switch Polygon / Tiles / Minitiles with the "which mode fits" help; each
// mode's tools live in polygon.ts and grid.ts.
import type { Ctx } from "../main";
import * as store from "../state";
import { mountPolygon } from "./polygon";
import { mountGrid } from "./grid";
import { mountOverlay } from "./overlay";

export function mountOrderData(pane: HTMLElement, ctx: Ctx): void {
  pane.innerHTML = `
    <h2>Order Data</h2>
    <div class="mode-switch" role="radiogroup" aria-label="Order Data">
      <button type="button" role="radio" class="seg" data-mode="polygon">Polygon</button>
      <button type="button" role="radio" class="seg" data-mode="grid">Tiles / Minitiles</button>
    </div>
    <details class="help">
      <summary>Which mode fits?</summary>
      <p><strong>Polygon</strong>: exact boundaries — you pay for the area you draw or import.</p>
      <p><strong>Tiles / Minitiles</strong>: select grid cells — a lower cost per km², with minitiles for finer fits.</p>
    </details>
    <div class="mode-body" data-body="polygon"></div>
    <div class="mode-body" data-body="grid"></div>
    <section class="overlay" aria-label="Existing orders overlay"></section>`;
  mountOverlay(pane.querySelector<HTMLElement>(".overlay")!, ctx);
  const poly = mountPolygon(pane.querySelector<HTMLElement>('[data-body="polygon"]')!, ctx);
  const grid = mountGrid(pane.querySelector<HTMLElement>('[data-body="grid"]')!, ctx);
  const render = () => {
    const mode = store.get().draft.mode;
    for (const b of pane.querySelectorAll<HTMLButtonElement>("[data-mode]")) {
      const on = b.dataset["mode"] === mode;
      b.setAttribute("aria-checked", String(on));
      b.tabIndex = on ? 0 : -1;
    }
    for (const b of pane.querySelectorAll<HTMLElement>("[data-body]")) b.hidden = b.dataset["body"] !== mode;
    if (mode === "polygon") { grid.deactivate(); poly.activate(); } else { poly.deactivate(); grid.activate(); }
  };
  for (const b of pane.querySelectorAll<HTMLButtonElement>("[data-mode]")) {
    b.addEventListener("click", () => store.updateDraft((d) => { d.mode = b.dataset["mode"] as store.Mode; }));
    b.addEventListener("keydown", (ev) => {
      if (["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown"].includes(ev.key)) {
        ev.preventDefault();
        const next = store.get().draft.mode === "polygon" ? "grid" : "polygon";
        store.updateDraft((d) => { d.mode = next; });
        pane.querySelector<HTMLButtonElement>(`[data-mode="${next}"]`)?.focus();
      }
    });
  }
  let last = store.get().draft.mode;
  store.subscribe((s, changed) => {
    if (changed.has("draft") && s.draft.mode !== last) { last = s.draft.mode; render(); }
  });
  render();
}
