// Orders: the list with status, the detail, cancel in Review, stop a renewal.
// TODO(WEB-B): list/detail/cancel. The map's `Existing orders` overlay is in overlay.ts (WEB-A).
import type { Ctx } from "../main";

export function mountOrders(pane: HTMLElement, _ctx: Ctx): void {
  pane.innerHTML = `<h2>Orders</h2><p class="muted">No orders yet.</p>`;
}
