// Tiles / Minitiles mode: the grid for the viewport, selection, Split, UTM zones, Optimise.
import type { Ctx } from "../main";
import type { ModeView } from "./polygon";

export function mountGrid(body: HTMLElement, _ctx: Ctx): ModeView {
  body.innerHTML = `<div class="toolbar">
    <button type="button" class="btn">Split</button>
    <button type="button" class="btn">Optimise</button></div>`;
  return { activate() {}, deactivate() {} };
}
