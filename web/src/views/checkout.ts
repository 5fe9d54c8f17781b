// Checkout: POST /v1/checkouts with the accepted total and an Idempotency-Key, then progress until
// completed or failed, with the reason and the next step.
// TODO(WEB-B): the checkout flow, called from the Cart.
import type { Ctx } from "../main";

export async function startCheckout(_cartId: string, _ctx: Ctx): Promise<void> {
  throw new Error("checkout is not built yet");
}
