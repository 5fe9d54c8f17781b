// Cart: the live estimate (lines per part or cell group, month and tier bracket, image dates,
// totals, quote expiry) and the way to Checkout.
// TODO(WEB-B): the cart view and the `Checkout` button (see checkout.ts).
import type { Ctx } from "../main";

export function mountCart(pane: HTMLElement, _ctx: Ctx): void {
  pane.innerHTML = `<h2>Cart</h2><p class="muted">Your cart is empty.</p>`;
}
