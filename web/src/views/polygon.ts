// Polygon mode: Draw (Geoman), Import (file picker and drop), Paste; validation per part.
import type { Ctx } from "../main";

export interface ModeView { activate(): void; deactivate(): void }

export function mountPolygon(body: HTMLElement, _ctx: Ctx): ModeView {
  body.innerHTML = `<div class="toolbar">
    <button type="button" class="btn">Draw</button>
    <button type="button" class="btn">Import</button>
    <button type="button" class="btn">Paste</button></div>`;
  return { activate() {}, deactivate() {} };
}
