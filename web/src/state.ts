// One small typed store shared by the views: what is being ordered (the draft), the cart and the
// account. Views subscribe to the keys they show and write only through `set`.
import type { Session } from "./auth";

export type Mode = "polygon" | "grid";

/** A grid cell as selected on the map: a tile or a minitile, with its UTM zone. */
export interface GridCell {
  guid: string;
  kind: "tile" | "minitile";
  zone?: string | number | null;
  /** Readable code, e.g. 33N-C0012-R0107 (tile) or 33N-C0012-R0107-M137 (minitile). */
  code?: string;
  /** A minitile's tile, by code. */
  parent?: string | null;
  areaKm2?: number;
  geometry: GeoJSON.Geometry;
}

/** A validated and stored AOI (polygon mode). */
export interface AoiRef {
  id: string;
  name?: string;
  areaKm2?: number;
  billableKm2?: number;
  parts?: number;
  geometry?: GeoJSON.Geometry;
}

export interface Draft {
  mode: Mode;
  aoi: AoiRef | null;
  /** Selected cells by GUID; insertion order kept for display. */
  cells: Map<string, GridCell>;
}

export interface State {
  session: Session | null;
  account: string | null;
  draft: Draft;
  cartId: string | null;
  balance: { amount: string; currency?: string } | null;
}

type Listener = (s: State, changed: ReadonlySet<keyof State>) => void;

const CART_KEY = "tessera.cart";

const state: State = {
  session: null,
  account: null,
  draft: { mode: "polygon", aoi: null, cells: new Map() },
  cartId: sessionStorage.getItem(CART_KEY),
  balance: null,
};
const listeners = new Set<Listener>();

export function get(): Readonly<State> {
  return state;
}

export function set(patch: Partial<State>): void {
  const changed = new Set(Object.keys(patch) as (keyof State)[]);
  Object.assign(state, patch);
  if (changed.has("cartId")) {
    if (state.cartId) sessionStorage.setItem(CART_KEY, state.cartId);
    else sessionStorage.removeItem(CART_KEY);
  }
  for (const l of listeners) l(state, changed);
}

/** Change the draft in place and tell the subscribers. */
export function updateDraft(fn: (d: Draft) => void): void {
  fn(state.draft);
  set({ draft: state.draft });
}

export function subscribe(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** What Configure / Add to cart orders: the AOI (polygon) or the selected cells (grid). */
export function orderTarget(): { kind: "aoi"; aoiId: string } | { kind: "cells"; guids: string[] } | null {
  const d = state.draft;
  if (d.mode === "polygon") return d.aoi ? { kind: "aoi", aoiId: d.aoi.id } : null;
  return d.cells.size ? { kind: "cells", guids: [...d.cells.keys()] } : null;
}
