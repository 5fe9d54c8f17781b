// The Guided tour (step by step through the ordering controls) and the always-visible credit
// balance in the header.
// TODO(WEB-B): the tour steps and the balance from GET /v1/accounts/{account}/credits.
import type { Ctx } from "../main";

export function mountTour(button: HTMLButtonElement, _ctx: Ctx): void {
  button.addEventListener("click", () => {
    /* TODO(WEB-B) */
  });
}

export function mountBalance(output: HTMLElement, _ctx: Ctx): void {
  output.textContent = "Credits: —";
}
