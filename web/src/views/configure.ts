// Configure: model, constellations, dates, frequency, storage, API requests, tile deduplication,
// then Add to cart. Reads what to order from state.orderTarget().
// TODO(WEB-B): the form (labels Model, From, To, ImageFrequency, ReferenceDate, StorageMonths,
// ApiRequests, Tile deduplication, one checkbox per constellation), field-level problems with
// role="alert", and the `Add to cart` button.
import type { Ctx } from "../main";

export function mountConfigure(pane: HTMLElement, _ctx: Ctx): void {
  pane.innerHTML = `<h2>Configure</h2><p class="muted">Choose the imagery for the selected area.</p>`;
}
