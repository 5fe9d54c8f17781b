// Checkout: POST /v1/checkouts with the total the person saw (the estimate's amount due now) and an
// Idempotency-Key, then progress until completed or failed, with the reason and the next step
// (insufficient credit: the amount missing; price changed: the new total, to confirm again).
import type { Ctx } from "../main";
import { api } from "../api/client";
import * as store from "../state";
import { call, emit, eur, h, newKey, problemDetail, refreshBalance, type Cart, type Checkout, type Estimate } from "./common";

const STEPS: Record<string, string> = {
  freezing: "holding the cart",
  reserving: "reserving the grid cells and dates",
  pricing: "pricing and charging the credit",
};
const POLL_MS = 600;
const GIVE_UP_MS = 120_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CheckoutView {
  /** The cart as the Cart shows it (null: none); its estimate's amount due is what Checkout accepts. */
  setCart(cart: Cart | null, estimate: Estimate | null): void;
}

export function mountCheckout(box: HTMLElement, ctx: Ctx): CheckoutView {
  const pay = h("p", { class: "muted", id: "checkout-pay" });
  const button = h("button", { type: "button", class: "btn btn-primary", "aria-describedby": "checkout-pay" }, "Checkout");
  const progress = h("p", { role: "status", class: "progress" });
  const outcome = h("div", { class: "outcome" });
  box.append(h("div", { class: "toolbar" }, button), pay, progress, outcome);

  let cart: Cart | null = null;
  let estimate: Estimate | null = null;
  let running = false;

  const sync = () => {
    const ready = !!cart && cart.status === "open" && cart.items.length > 0 && !!estimate;
    button.disabled = running || !ready;
    box.hidden = !cart && !outcome.childElementCount && !running;
    pay.textContent = ready ? `Pays ${eur(estimate!.due_at_checkout)} from your credit now.` : "";
  };

  const waitForOpenCart = async (cartId: string) => {
    // a failed checkout reopens its cart through a compensation that may still be on its way
    for (let i = 0; i < 40; i++) {
      const r = await call<Cart>(api.GET("/v1/carts/{cart_id}", { params: { path: { cart_id: cartId } } }));
      if (!r.ok || r.data.status === "open") return;
      await sleep(250);
    }
  };

  const failed = (co: Checkout) => {
    const f = co.failure ?? { code: "failed", reason: "the checkout failed" };
    const note = h("div", { class: "alert", role: "alert" });
    const code = f.code.replace(/_/g, " ");
    note.append(h("p", {}, h("strong", {}, `Checkout failed: ${code}. `), f.reason));
    if (f.code === "insufficient_credit") {
      note.append(h("p", {}, `Missing: ${eur(f.missing)}${f.due ? ` of ${eur(f.due)} due` : ""}. `,
        "Nothing was charged. Top up your credit (ask your account administrator), then press Checkout again."));
    } else if (f.code === "price_changed" && f.new_total) {
      const confirm = h("button", { type: "button", class: "btn btn-primary" }, `Confirm new total ${eur(f.new_total)}`);
      note.append(h("p", {}, `The price changed: the new total is ${eur(f.new_total)}`,
        f.accepted_total ? ` (you accepted ${eur(f.accepted_total)})` : "", ". Nothing was charged."), confirm);
      confirm.addEventListener("click", async () => {
        confirm.disabled = true;
        await waitForOpenCart(co.cart_id);
        await start(co.cart_id, f.new_total!);
      });
    } else if (f.code === "cart_frozen") {
      note.append(h("p", {}, "Another checkout of this cart is running; its outcome decides the cart."));
    } else {
      note.append(h("p", {}, "Nothing was charged. Review the cart and press Checkout again."));
    }
    outcome.replaceChildren(note);
    note.scrollIntoView({ block: "nearest" });
    note.querySelector<HTMLButtonElement>("button")?.focus();
  };

  const completed = (co: Checkout) => {
    const n = co.order_ids.length;
    const view = h("button", { type: "button", class: "btn" }, "View orders");
    view.addEventListener("click", () => ctx.show("orders"));
    outcome.replaceChildren(h("div", { class: "success", role: "status" },
      h("p", {}, h("strong", {}, "Checkout completed: "),
        `${n} order${n === 1 ? "" : "s"} placed, ${eur(co.total ?? co.accepted_total)} charged.`),
      view));
  };

  async function start(cartId: string, acceptedTotal: string): Promise<void> {
    running = true;
    outcome.replaceChildren();
    progress.textContent = `Starting the checkout at ${eur(acceptedTotal)}…`;
    sync();
    try {
      const r = await call<Checkout>(api.POST("/v1/checkouts", {
        params: { header: { "Idempotency-Key": newKey() } },
        body: { cart_id: cartId, accepted_total: acceptedTotal },
      }));
      if (!r.ok) {
        progress.textContent = "";
        outcome.replaceChildren(h("div", { class: "alert", role: "alert" },
          h("p", {}, h("strong", {}, "Checkout refused: "), problemDetail(r.problem))));
        return;
      }
      let co = r.data;
      const until = Date.now() + GIVE_UP_MS;
      while (co.status === "running" && Date.now() < until) {
        progress.textContent = `Checkout running: ${STEPS[co.step] ?? co.step}…`;
        await sleep(POLL_MS);
        const next = await call<Checkout>(api.GET("/v1/checkouts/{checkout_id}", { params: { path: { checkout_id: co.id } } }));
        if (next.ok) co = next.data;
      }
      if (co.status === "completed") {
        progress.textContent = "";
        completed(co);
        store.set({ cartId: null }); // the cart is checked out: the next Add to cart starts a new one
        emit("orders");
      } else if (co.status === "failed") {
        progress.textContent = "";
        failed(co);
        await waitForOpenCart(co.cart_id);
        emit("cart"); // the cart is open again, at today's prices
      } else {
        progress.textContent = "The checkout is still running; its orders will appear in Orders when it completes.";
      }
    } finally {
      running = false;
      sync();
      void refreshBalance();
    }
  }

  button.addEventListener("click", () => {
    if (cart && estimate) void start(cart.id, estimate.due_at_checkout);
  });

  sync();
  return {
    setCart(c, e) {
      cart = c;
      estimate = e;
      sync();
    },
  };
}
