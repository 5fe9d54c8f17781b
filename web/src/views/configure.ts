// Configure: model, constellations, dates, frequency, storage, API requests, tile deduplication,
// then Add to cart. What is ordered comes from the Order Data draft (state.orderTarget()); a field
// the service refuses shows the service's own message next to that field.
import type { Ctx } from "../main";
import { api, type paths, type Problem } from "../api/client";
import * as store from "../state";
import {
  call, constellationName, emit, eur, h, km2, newKey, problemDetail,
  type Cart, type ModelInfo, type ModelsAnswer, type OrderItemPayload,
} from "./common";

// The request body as the OpenAPI document types it, once it does; until then the page's own shape.
type Op = paths["/v1/carts/{cart_id}/items"]["post"];
type Documented = Op extends { requestBody: { content: { "application/json": infer B } } } ? B : never;
// openapi-typescript makes every property with a default non-optional; in a request body a default
// means "may be left out", so only the fields the document requires stay required here.
type Needed = "model" | "constellations" | "from" | "image_frequency";
type ItemBody = [Documented] extends [never]
  ? OrderItemPayload
  : Partial<Documented> & Pick<Documented, Needed & keyof Documented>;

/** The form fields a service error may name (snake_case, or the provider's alias). */
const FIELD_OF: Record<string, string> = {
  model: "model", Model: "model",
  constellations: "constellations", SatelliteConstellations: "constellations",
  from: "from", From: "from", from_: "from",
  to: "to", To: "to",
  image_frequency: "image_frequency", ImageFrequency: "image_frequency",
  reference_date: "reference_date", ReferenceDate: "reference_date",
  storage_months: "storage_months", StorageMonths: "storage_months",
  api_requests: "api_requests", ApiRequests: "api_requests",
  tile_deduplication: "tile_deduplication", TileDeduplication: "tile_deduplication",
};

function firstOfThisMonth(): string {
  return new Date().toISOString().slice(0, 8) + "01";
}

export function mountConfigure(pane: HTMLElement, ctx: Ctx): void {
  pane.innerHTML = "";
  const target = h("p", { class: "muted", id: "cfg-target" });
  const form = h("form", { class: "configure", novalidate: true, "aria-describedby": "cfg-target" });

  // One field: label, control, hint, and the place for the service's refusal.
  const errors = new Map<string, HTMLElement>();
  const controls = new Map<string, HTMLElement>();
  const field = (key: string, label: string, control: HTMLElement, hint?: string | HTMLElement): HTMLElement => {
    const id = `cfg-${key}`;
    control.id = id;
    const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
    const err = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
    errors.set(key, err);
    controls.set(key, control);
    control.setAttribute("aria-describedby", [hintEl ? hintEl.id : "", err.id].filter(Boolean).join(" "));
    return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl, err);
  };

  const model = h("select", { name: "model" });
  const constellations = h("fieldset", { class: "constellations", id: "cfg-constellations" },
    h("legend", {}, "Constellations"));
  const constellationBoxes = h("div", {});
  const constellationError = h("p", { class: "field-error", id: "cfg-constellations-error", role: "alert" });
  constellations.append(constellationBoxes, constellationError);
  errors.set("constellations", constellationError);
  controls.set("constellations", constellations);
  const from = h("input", { type: "date", name: "from", required: true, value: firstOfThisMonth() });
  const to = h("input", { type: "date", name: "to" });
  const recurring = h("span", { "aria-live": "polite" });
  const frequency = h("input", { type: "number", name: "image_frequency", min: "1", max: "7", step: "1", value: "3", inputmode: "numeric" });
  const reference = h("input", { type: "date", name: "reference_date" });
  const storage = h("input", { type: "number", name: "storage_months", min: "1", step: "1", value: "1", inputmode: "numeric" });
  const requests = h("input", { type: "number", name: "api_requests", min: "1", step: "1", value: "1", inputmode: "numeric" });
  const dedup = h("input", { type: "checkbox", name: "tile_deduplication" });
  const dedupHint = h("span", {});
  const dedupField = field("tile_deduplication", "Tile deduplication", dedup, dedupHint);
  dedupField.classList.add("field-check");

  const add = h("button", { type: "submit", class: "btn btn-primary" }, "Add to cart");
  const general = h("div", { role: "alert", class: "form-alert" });
  const done = h("p", { role: "status", class: "ok" });

  form.append(
    field("model", "Model", model),
    constellations,
    h("div", { class: "row2" },
      field("from", "From", from, "The 1st of a month."),
      field("to", "To", to, recurring)),
    field("image_frequency", "ImageFrequency", frequency, "Days between images: 1 (daily) to 7 (weekly)."),
    field("reference_date", "ReferenceDate", reference, "Optional: the day the image cadence counts from; defaults to From."),
    h("div", { class: "row2" },
      field("storage_months", "StorageMonths", storage, "At least 1 (the included period)."),
      field("api_requests", "ApiRequests", requests, "Downloads per image, at least 1 (one is included).")),
    dedupField,
    h("div", { class: "toolbar" }, add),
    general,
    done,
  );
  pane.append(h("h2", {}, "Configure"), target, form);

  let models: ModelInfo[] = [];

  const showRecurring = () => {
    recurring.textContent = to.value
      ? "A fixed window: charged in full at checkout."
      : "Empty: a recurring order that renews every month until you stop it.";
  };

  const renderConstellations = () => {
    const spec = models.find((m) => m.model === model.value);
    const before = new Set([...constellationBoxes.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value));
    constellationBoxes.innerHTML = "";
    if (!spec) return;
    for (const c of spec.required_constellations) {
      const id = `cfg-c-${c}`;
      const why = h("span", { class: "hint", id: `${id}-why` }, `required by ${spec.display_name}`);
      // Checked and locked: the model cannot be ordered without it (the service would refuse).
      const box = h("input", { type: "checkbox", id, value: c, checked: true, disabled: true, "aria-describedby": why.id });
      constellationBoxes.append(h("div", { class: "check" }, box, h("label", { for: id, class: "inline" }, constellationName(c)), why));
    }
    for (const o of spec.optional_constellations) {
      const id = `cfg-c-${o.constellation}`;
      const why = h("span", { class: "hint", id: `${id}-why` }, `optional, adds ${eur(o.add_on_rate_per_km2)} per km² per image`);
      const box = h("input", { type: "checkbox", id, value: o.constellation, "aria-describedby": why.id });
      box.checked = before.has(o.constellation);
      constellationBoxes.append(h("div", { class: "check" }, box,
        h("label", { for: id, class: "inline" }, o.display_name || constellationName(o.constellation)), why));
    }
  };

  const renderTarget = () => {
    const d = store.get().draft;
    const grid = d.mode === "grid";
    dedup.disabled = !grid;
    if (!grid) dedup.checked = false;
    dedupHint.textContent = grid
      ? "Do not buy again the cells and dates this account already ordered (same model and constellations)."
      : "Grid items only: switch Order Data to Tiles / Minitiles to use it.";
    if (grid) {
      const cells = [...d.cells.values()];
      const tiles = cells.filter((c) => c.kind === "tile").length;
      const minis = cells.length - tiles;
      const area = cells.reduce((s, c) => s + (c.areaKm2 ?? 0), 0);
      target.textContent = cells.length
        ? `Ordering ${tiles} tile${tiles === 1 ? "" : "s"} and ${minis} minitile${minis === 1 ? "" : "s"} (${km2(area)}).`
        : "Nothing selected yet: select tiles or minitiles in Order Data.";
    } else if (d.aoi) {
      const parts = d.aoi.parts ? `, ${d.aoi.parts} part${d.aoi.parts === 1 ? "" : "s"}` : "";
      const area = d.aoi.billableKm2 ?? d.aoi.areaKm2;
      target.textContent = `Ordering the AOI ${d.aoi.name ?? d.aoi.id}${area !== undefined ? ` (${km2(area)} billable${parts})` : ""}.`;
    } else {
      target.textContent = "Nothing selected yet: draw, import or paste a polygon in Order Data.";
    }
  };

  const clearErrors = () => {
    for (const [key, e] of errors) {
      e.textContent = "";
      controls.get(key)?.removeAttribute("aria-invalid");
    }
    general.textContent = "";
    done.textContent = "";
  };

  /** The service's messages next to the fields they name; the rest above the button. */
  const showProblem = (problem: Problem & { errors?: { field: string; message: string }[] }) => {
    const rest: string[] = [];
    for (const e of problem.errors ?? []) {
      const key = FIELD_OF[e.field.split(".")[0] ?? ""];
      const slot = key ? errors.get(key) : undefined;
      if (slot) {
        slot.textContent = slot.textContent ? `${slot.textContent} ${e.message}` : e.message;
        controls.get(key!)?.setAttribute("aria-invalid", "true");
      } else {
        rest.push(`${e.field}: ${e.message}`);
      }
    }
    if (!problem.errors?.length || rest.length) general.textContent = rest.length ? rest.join("; ") : problemDetail(problem);
    const first = [...errors.entries()].find(([, e]) => e.textContent);
    if (first) (controls.get(first[0]) as HTMLElement | undefined)?.focus?.();
  };

  const payload = (): ItemBody | null => {
    const t = store.orderTarget();
    if (!t) return null;
    const chosen = [...constellationBoxes.querySelectorAll<HTMLInputElement>("input:checked")].map((i) => i.value);
    const item: ItemBody = {
      model: model.value as ItemBody["model"],
      constellations: chosen as ItemBody["constellations"],
      from: from.value,
      to: to.value || null,
      image_frequency: Number(frequency.value),
      storage_months: Number(storage.value || 1),
      api_requests: Number(requests.value || 1),
    };
    if (reference.value) item.reference_date = reference.value;
    if (t.kind === "aoi") {
      item.aoi_id = t.aoiId;
    } else {
      const cells = store.get().draft.cells;
      // tiles and minitiles in their own lists, as the shared vocabulary names them
      const tiles = t.guids.filter((g) => cells.get(g)?.kind !== "minitile");
      const minitiles = t.guids.filter((g) => cells.get(g)?.kind === "minitile");
      if (tiles.length) item.tile_guids = tiles;
      if (minitiles.length) item.minitile_guids = minitiles;
      item.tile_deduplication = dedup.checked;
    }
    return item;
  };

  const newCart = async (): Promise<string | null> => {
    const r = await call<Cart>(api.POST("/v1/carts", { params: { header: { "Idempotency-Key": newKey() } } }));
    if (!r.ok) {
      showProblem(r.problem);
      return null;
    }
    store.set({ cartId: r.data.id });
    return r.data.id;
  };

  const post = (cartId: string, body: ItemBody, key: string) =>
    // `never`: until the document types this body, openapi-fetch allows none; ItemBody checks it.
    call<unknown>(api.POST("/v1/carts/{cart_id}/items", {
      params: { path: { cart_id: cartId }, header: { "Idempotency-Key": key } },
      body: body as never,
    }));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const item = payload();
    if (!item) {
      general.textContent = store.get().draft.mode === "grid"
        ? "Select tiles or minitiles in Order Data first."
        : "Draw, import or paste a polygon in Order Data first.";
      return;
    }
    add.disabled = true;
    add.setAttribute("aria-busy", "true");
    try {
      const key = newKey(); // one per click: a retry of this click replays, a new click adds again
      let cartId = store.get().cartId ?? (await newCart());
      if (!cartId) return;
      let r = await post(cartId, item, key);
      // the remembered cart was checked out (or is gone): start a new one and add there
      if (!r.ok && (r.status === 404 || (r.status === 409 && ["cart_checked_out", "cart_closed"].includes(String(r.problem.code))))) {
        cartId = await newCart();
        if (!cartId) return;
        r = await post(cartId, item, key);
      }
      if (!r.ok) {
        showProblem(r.problem);
        return;
      }
      done.textContent = "Added to the cart.";
      emit("cart");
      ctx.show("cart");
    } finally {
      add.disabled = false;
      add.removeAttribute("aria-busy");
    }
  });

  model.addEventListener("change", renderConstellations);
  to.addEventListener("input", showRecurring);
  store.subscribe((_s, changed) => {
    if (changed.has("draft")) renderTarget();
  });

  void (async () => {
    const r = await call<ModelsAnswer>(api.GET("/v1/models"));
    if (!r.ok) {
      general.textContent = `The models could not be loaded: ${problemDetail(r.problem)}`;
      return;
    }
    models = r.data.models;
    for (const m of models) model.append(h("option", { value: m.model }, m.display_name));
    renderConstellations();
  })();
  showRecurring();
  renderTarget();
}
