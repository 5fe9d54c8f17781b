// What the ordering views (Configure, Cart, Checkout, Orders, the balance) share: the answers' shapes,
// calling the typed client and reading its problems, money / area / date formatting, and a small
// event bus so one view can tell the others that the cart, the orders or the balance changed.
import "./views.css";
import { api, type Problem } from "../api/client";
import type { OrderCore } from "../api/types";
import * as store from "../state";

// ------------------------------------------------------------------------------------ answers
// Several routes still answer `unknown` in the OpenAPI document (their handlers return plain
// dicts), so the shapes the page reads are spelled out here; once the document types them, a
// field renamed there still needs changing here by hand.

export interface ModelInfo {
  model: string;
  display_name: string;
  family: string;
  base_rate_per_km2: string;
  required_constellations: string[];
  optional_constellations: { constellation: string; display_name: string; add_on_rate_per_km2: string }[];
}

export interface ModelsAnswer {
  price_book_version: string;
  currency: string;
  models: ModelInfo[];
}

export interface EstimateLine {
  item: string;
  month: string;
  charged_at_checkout: boolean;
  kind: string;
  label: string;
  family: string;
  mode: string | null;
  tier: number | null;
  discount: string | null;
  area_km2: string;
  image_dates: number;
  quantity: string;
  unit: string;
  rate: string;
  amount: string;
  cells: string[];
}

export interface Estimate {
  quote_id: string;
  created_at: string;
  expires_at: string;
  total: string;
  due_at_checkout: string;
  currency: string;
  price_book_version: string;
  image_dates: { item: string; month: string; charged_at_checkout: boolean; dates: string[] }[];
  lines: EstimateLine[];
  areas: { item: string; label: string; mode: string; area_km2: string; billable_km2: string; cell_count: number }[];
  warnings: string[];
  deduplication?: string;
}

/** The order-item payload (shared vocabulary), as the page sends it. */
export interface OrderItemPayload {
  aoi_id?: string;
  tile_guids?: string[];
  minitile_guids?: string[];
  model: string;
  constellations: string[];
  from: string;
  to: string | null;
  image_frequency: number;
  reference_date?: string | null;
  storage_months?: number;
  api_requests?: number;
  tile_deduplication?: boolean;
}

export interface CartItem {
  id: string;
  position: number;
  mode: "polygon" | "grid";
  item: OrderItemPayload;
  aoi?: { aoi_id: string | null; parts: { label: string; area_km2: string; billable_km2?: string }[]; totals?: { area_km2?: string; billable_km2?: string } | null };
  cells?: { guid: string; code?: string; level?: string; area_km2?: string }[];
  warnings: string[];
  estimate?: { total: string; due_at_checkout: string; currency: string };
}

export interface Cart {
  id: string;
  status: "open" | "frozen" | "checked_out" | string;
  checkout_id: string | null;
  items: CartItem[];
  item_count: number;
  estimate: Estimate | null;
  estimate_note: string | null;
}

export interface Checkout {
  id: string;
  cart_id: string;
  status: "running" | "completed" | "failed";
  step: string;
  accepted_total: string;
  total: string | null;
  currency: string;
  order_ids: string[];
  failure?: { code: string; reason: string; missing?: string; due?: string; new_total?: string; accepted_total?: string };
}

export interface OrderSummary extends OrderCore {
  renewal_stopped_after: string | null;
  renewal_paused: boolean | string | null;
}

export interface OrderDetail extends OrderSummary {
  configuration: OrderItemPayload;
  aoi: { parts: { label: string; area_km2: string; billable_km2?: string }[] } | null;
  cells: { guid: string; code?: string; area_km2?: string; excluded_dates?: string[] }[] | null;
  image_dates: string[];
  price: { lines: EstimateLine[]; total: string; currency: string };
  charges: { month: string; amount: string; status: string }[];
  status_history: { from: string | null; to: string; at: string; source: string; detail: string | null }[];
  attribution: string[];
}

export interface Credits {
  account_id: string;
  balance: string;
  overdraft_limit: string;
  currency: string;
}

// ------------------------------------------------------------------------------------ calling

export type Outcome<T> =
  | { ok: true; data: T; status: number }
  | { ok: false; problem: Problem & { errors?: { field: string; message: string }[] }; status: number };

/** Awaits an openapi-fetch call and gives the answer or the service's problem (a network failure
 * becomes a problem too, so every caller shows one kind of refusal). */
export async function call<T>(
  request: Promise<{ data?: unknown; error?: unknown; response: Response }>,
): Promise<Outcome<T>> {
  try {
    const { data, error, response } = await request;
    if (response.ok) return { ok: true, data: data as T, status: response.status };
    const problem = (error && typeof error === "object" ? error : { detail: String(error ?? response.statusText) }) as Problem;
    return { ok: false, problem, status: response.status };
  } catch {
    return { ok: false, problem: { detail: "The service could not be reached; check the connection and try again." }, status: 0 };
  }
}

/** A fresh Idempotency-Key. randomUUID needs a secure context; a page served over plain http from
 * another host is not one, getRandomValues works everywhere. */
export function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

export function problemDetail(p: Problem | undefined, fallback = "The request was refused."): string {
  return String(p?.detail ?? p?.title ?? fallback);
}

// ------------------------------------------------------------------------------------ formatting

function group(whole: string): string {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** EUR with two decimals from the services' decimal strings, without a round trip through a float. */
export function eur(amount: string | number | null | undefined): string {
  if (amount === null || amount === undefined || amount === "") return "—";
  let s = typeof amount === "number" ? amount.toFixed(2) : String(amount).trim();
  const negative = s.startsWith("-");
  if (negative) s = s.slice(1);
  if (!/^\d+(\.\d+)?$/.test(s)) return `EUR ${s}`;
  if (!s.includes(".") || s.split(".")[1]!.length !== 2) s = Number(s).toFixed(2);
  const [whole, frac] = s.split(".");
  return `EUR ${negative ? "-" : ""}${group(whole!)}.${frac}`;
}

export function km2(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) return `${value} km²`;
  const [whole, frac] = n.toFixed(2).split(".");
  return `${group(whole!)}.${frac} km²`;
}

/** An ISO timestamp shown as ISO date and UTC time (the services keep every date in UTC). */
export function isoTime(value: string | null | undefined): string {
  if (!value) return "—";
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

export function percent(discount: string | null | undefined): string {
  if (discount === null || discount === undefined) return "";
  const n = Number(discount);
  return Number.isFinite(n) ? `${Math.round(n * 100)} %` : discount;
}

export const CONSTELLATION_NAMES: Record<string, string> = {
  Sentinel1: "Sentinel-1",
  Sentinel2: "Sentinel-2",
  Landsat89: "Landsat 8/9",
};

// as GET /v1/models names them; the lists below need no request to show a stored item
const MODEL_NAMES: Record<string, string> = {
  Stratus2: "Stratus-2",
  Stratus3: "Stratus-3",
  Stratus2Fast: "Stratus-2 Fast",
  Nimbus: "Nimbus",
};

export function modelName(m: string): string {
  return MODEL_NAMES[m] ?? m;
}

export function constellationName(c: string): string {
  return CONSTELLATION_NAMES[c] ?? c;
}

export function windowText(from: string, to: string | null | undefined): string {
  return to ? `${from} to ${to}` : `from ${from}, recurring (renews monthly)`;
}

// ------------------------------------------------------------------------------------ DOM

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
  return e;
}

/** The children worth appending (conditional parts left out). */
export function nodes(...xs: (Node | string | null | undefined | false)[]): (Node | string)[] {
  return xs.filter((x): x is Node | string => x !== null && x !== undefined && x !== false);
}

/** A definition list from label/value pairs (empty values left out). */
export function facts(pairs: [string, string | Node | null | undefined][]): HTMLDListElement {
  const dl = h("dl", { class: "stats" });
  for (const [k, v] of pairs) {
    if (v === null || v === undefined || v === "") continue;
    dl.append(h("dt", {}, k), h("dd", {}, v));
  }
  return dl;
}

// ------------------------------------------------------------------------------------ events

export type Topic = "cart" | "orders" | "balance";
const bus = new EventTarget();

export function emit(topic: Topic): void {
  bus.dispatchEvent(new Event(topic));
}

export function on(topic: Topic, fn: () => void): void {
  bus.addEventListener(topic, fn);
}

/** Calls fn whenever the pane is shown again (the shell toggles its `hidden`), so a view reloads
 * what may have changed while another section was open. */
export function onShown(pane: HTMLElement, fn: () => void): void {
  new MutationObserver(() => {
    if (!pane.hidden) fn();
  }).observe(pane, { attributes: true, attributeFilter: ["hidden"] });
}

// ------------------------------------------------------------------------------------ credit

let balanceRequest: Promise<void> | null = null;

/** Reads the account's credit into the store (the header shows it); concurrent calls share one request. */
export function refreshBalance(): Promise<void> {
  const account = store.get().account;
  if (!account) return Promise.resolve();
  balanceRequest ??= (async () => {
    const r = await call<Credits>(api.GET("/v1/accounts/{account}/credits", { params: { path: { account } } }));
    if (r.ok) store.set({ balance: { amount: r.data.balance, currency: r.data.currency } });
  })().finally(() => {
    balanceRequest = null;
  });
  return balanceRequest;
}
