// Tiles / Minitiles mode: the grid of the viewport (POST /v1/tiles/search), selection by click (or
// Enter on the map's centre), Split / Merge (right-click, button, key S), tiles and minitiles mixed,
// UTM zone toggles where zones overlap, and Optimise (POST /v1/tiles/optimize) of a drawn polygon.
import L from "../leafletGlobal";
import type { Ctx } from "../main";
import { api, problemText } from "../api/client";
import type { CellBody, MinitilesBody, OptimiseBody, SearchBody } from "../api/types";
import * as store from "../state";
import type { GridCell } from "../state";
import { drawing } from "../draw";
import { canvas } from "../map";
import { esc, fmtKm2 } from "../format";
import type { ModeView } from "./polygon";

/** Below this zoom a viewport holds too many tiles to draw usefully. */
const GRID_MIN_ZOOM = 6;
/** From this zoom the minitile grid of the viewport is drawn too. */
const MINI_ZOOM = 10;

const S = {
  tile: { color: "#3b4a63", weight: 1, opacity: 0.8, fill: true, fillColor: "#0b5cad", fillOpacity: 0.02 },
  tileSel: { color: "#0b5cad", weight: 2, opacity: 1, fill: true, fillColor: "#0b5cad", fillOpacity: 0.35 },
  tileActive: { color: "#f0a202", weight: 3 },
  split: { color: "#3b4a63", weight: 2, opacity: 0.9, fill: false, dashArray: "6 4" },
  mini: { color: "#6b7a93", weight: 0.6, opacity: 0.8, fill: true, fillColor: "#7a3ea8", fillOpacity: 0.02 },
  miniSel: { color: "#7a3ea8", weight: 1, opacity: 1, fill: true, fillColor: "#7a3ea8", fillOpacity: 0.45 },
  faint: { color: "#6b7a93", weight: 0.4, opacity: 0.5, fill: false, interactive: false },
} satisfies Record<string, L.PathOptions>;

const parentCode = (code: string) => code.replace(/-M\d+$/, "");

function toCell(c: CellBody): GridCell {
  return {
    guid: c.guid,
    kind: c.level,
    zone: c.zone,
    code: c.code,
    parent: c.level === "minitile" ? parentCode(c.code) : null,
    areaKm2: c.area_km2,
    geometry: c.footprint!,
  };
}

function latlngs(g: GeoJSON.Geometry): L.LatLngExpression[][] | L.LatLngExpression[][][] {
  const ring = (r: GeoJSON.Position[]) => r.map((p) => [p[1]!, p[0]!] as L.LatLngTuple);
  if (g.type === "Polygon") return g.coordinates.map(ring);
  if (g.type === "MultiPolygon") return g.coordinates.map((p) => p.map(ring));
  return [];
}

function inside(pt: L.LatLng, poly: L.Polygon): boolean {
  if (!poly.getBounds().contains(pt)) return false;
  const rings = poly.getLatLngs() as L.LatLng[][] | L.LatLng[][][];
  const flat: L.LatLng[][] = Array.isArray(rings[0]) && Array.isArray((rings[0] as unknown[])[0])
    ? (rings as L.LatLng[][][]).flat() : (rings as L.LatLng[][]);
  let c = false;
  for (const r of flat) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const a = r[i]!, b = r[j]!;
      if (a.lat > pt.lat !== b.lat > pt.lat && pt.lng < ((b.lng - a.lng) * (pt.lat - a.lat)) / (b.lat - a.lat) + a.lng) c = !c;
    }
  }
  return c;
}

export function mountGrid(body: HTMLElement, ctx: Ctx): ModeView {
  const map = ctx.map;
  const draw = drawing(map);
  body.innerHTML = `
    <p class="muted small">Click a tile to select it. Split a tile into its 256 minitiles (right-click, the Split button, or S on the map) to pick finer cells; tiles and minitiles mix. With the map focused, arrows pan and Enter selects the cell under the centre cross.</p>
    <div class="toolbar" role="toolbar" aria-label="Grid tools">
      <button type="button" class="btn" data-act="split" disabled>Split</button>
      <button type="button" class="btn" data-act="merge" disabled>Merge</button>
      <button type="button" class="btn" data-act="optimise">Optimise</button>
      <button type="button" class="btn" data-act="clear">Clear selection</button>
    </div>
    <div data-zones></div>
    <div data-status aria-live="polite" class="muted small"></div>
    <div data-problem></div>
    <div data-optimised></div>
    <h3>Selection</h3>
    <dl class="stats" data-stats></dl>
    <ul class="cells" data-list aria-label="Selected cells"></ul>`;
  const $ = <T extends HTMLElement>(sel: string) => body.querySelector<T>(sel)!;
  const btn = (act: string) => $<HTMLButtonElement>(`[data-act="${act}"]`);
  const statusEl = $("[data-status]");
  const problemEl = $("[data-problem]");
  const zonesEl = $("[data-zones]");
  const statsEl = $("[data-stats]");
  const listEl = $("[data-list]");
  const optEl = $("[data-optimised]");

  const hint = L.DomUtil.create("div", "map-hint");
  hint.setAttribute("role", "status");
  const cross = L.DomUtil.create("div", "map-cross");
  cross.setAttribute("aria-hidden", "true");

  const layer = L.layerGroup();
  const faint = L.layerGroup();
  /** Polygons by GUID: viewport tiles, minitiles of split tiles, selected cells out of view. */
  const polys = new Map<string, L.Polygon>();
  const cellOf = new Map<L.Polygon, GridCell>();
  let viewTiles: CellBody[] = [];
  /** Split tiles (by code): their minitiles. */
  const split = new Map<string, CellBody[]>();
  let zonesSeen = new Set<string>();
  const zonesOff = new Set<string>();
  let activeCode: string | null = null;
  let active = false;
  let abort: AbortController | null = null;
  let timer: number | undefined;

  const sel = () => store.get().draft.cells;

  function styleFor(c: GridCell): L.PathOptions {
    const selected = sel().has(c.guid);
    const base = c.kind === "tile" ? (selected ? S.tileSel : S.tile) : selected ? S.miniSel : S.mini;
    return c.kind === "tile" && c.code === activeCode ? { ...base, ...S.tileActive } : base;
  }

  function add(c: GridCell) {
    if (polys.has(c.guid) || !c.geometry) return;
    const p = L.polygon(latlngs(c.geometry), { ...styleFor(c), renderer: canvas });
    // Clicks bubble to the map so that drawing (Optimise's polygon) can place vertices over cells.
    p.on("click", () => {
      if (!draw.drawing()) toggle(c);
    });
    p.on("contextmenu", (e) => {
      L.DomEvent.preventDefault((e as L.LeafletMouseEvent).originalEvent);
      if (draw.drawing()) return;
      if (c.kind === "tile") void splitTile(c.code!);
      else void mergeTile(c.parent!);
    });
    p.bindTooltip(`${c.code} · ${fmtKm2(c.areaKm2)}`, { sticky: true, direction: "top", opacity: 0.9 });
    p.addTo(layer);
    polys.set(c.guid, p);
    cellOf.set(p, c);
  }

  function render() {
    layer.clearLayers();
    polys.clear();
    cellOf.clear();
    const splitCodes = new Set(split.keys());
    for (const t of viewTiles) if (!splitCodes.has(t.code)) add(toCell(t));
    for (const [code, minis] of split) {
      for (const m of minis) add(toCell(m));
      const tile = viewTiles.find((t) => t.code === code);
      if (tile?.footprint) L.polygon(latlngs(tile.footprint), { ...S.split, renderer: canvas, interactive: false }).addTo(layer);
    }
    for (const c of sel().values()) add(c); // selected cells outside the viewport stay visible
    summarise();
  }

  function restyle() {
    for (const [p, c] of cellOf) p.setStyle(styleFor(c));
    summarise();
  }

  function setActive(code: string | null) {
    activeCode = code;
    btn("split").disabled = !code || split.has(code);
    btn("merge").disabled = !code || !split.has(code);
    restyle();
  }

  function toggle(c: GridCell) {
    store.updateDraft((d) => {
      if (d.cells.has(c.guid)) d.cells.delete(c.guid);
      else d.cells.set(c.guid, c);
    });
    setActive(c.kind === "tile" ? c.code! : c.parent!);
  }

  async function splitTile(code: string) {
    if (split.has(code)) return;
    setStatus(`Splitting ${code}…`);
    const { data, error } = await api.GET("/v1/tiles/{guid}/minitiles", { params: { path: { guid: code } } });
    if (error || !data) {
      showProblem(error);
      return;
    }
    const minis = (data as unknown as MinitilesBody).minitiles;
    split.set(code, minis);
    const tile = [...sel().values()].find((c) => c.kind === "tile" && c.code === code);
    // A selected tile becomes its minitiles, all selected: splitting never changes what is bought.
    store.updateDraft((d) => {
      if (tile) {
        d.cells.delete(tile.guid);
        for (const m of minis) d.cells.set(m.guid, toCell(m));
      }
    });
    setStatus(`${code} split into ${minis.length} minitiles.`);
    render();
    setActive(code);
  }

  async function mergeTile(code: string) {
    const minis = split.get(code);
    if (!minis) return;
    const chosen = minis.filter((m) => sel().has(m.guid));
    const all = chosen.length === minis.length;
    let tile = viewTiles.find((t) => t.code === code);
    if (all && !tile?.footprint) {
      const { data } = await api.GET("/v1/tiles/{guid}", { params: { path: { guid: code } } });
      tile = data as unknown as CellBody | undefined;
    }
    store.updateDraft((d) => {
      for (const m of minis) d.cells.delete(m.guid);
      if (all && tile) d.cells.set(tile.guid, toCell(tile));
    });
    split.delete(code);
    setStatus(all ? `${code} merged back into one selected tile.` : `${code} merged; its ${chosen.length} selected minitiles were deselected.`);
    render();
    setActive(code);
  }

  function setStatus(t: string) {
    statusEl.textContent = t;
  }

  function showProblem(p: unknown) {
    problemEl.innerHTML = p ? `<div class="alert" role="alert">${esc(problemText(p))}</div>` : "";
  }

  function showHint(text: string | null) {
    hint.textContent = text ?? "";
    hint.hidden = !text;
  }

  function viewportBbox(): [number, number, number, number] | null {
    const b = map.getBounds();
    const w = Math.max(-180, b.getWest()), e = Math.min(180, b.getEast());
    const s = Math.max(-80, b.getSouth()), n = Math.min(84, b.getNorth());
    if (w >= e || s >= n) return null;
    return [w, s, e, n];
  }

  async function refresh() {
    if (!active) return;
    abort?.abort();
    faint.clearLayers();
    if (map.getZoom() < GRID_MIN_ZOOM) {
      viewTiles = [];
      render();
      showHint("Zoom in to see the tile grid");
      return;
    }
    const bbox = viewportBbox();
    if (!bbox) return;
    const withMinis = map.getZoom() >= MINI_ZOOM;
    abort = new AbortController();
    const zones = zonesOff.size ? [...zonesSeen].filter((z) => !zonesOff.has(z)) : null;
    showHint(null);
    setStatus("Loading the grid…");
    const { data, error, response } = await api
      .POST("/v1/tiles/search", {
        body: { bbox, zones, footprints: true, include_minitiles: withMinis },
        signal: abort.signal,
      })
      .catch((e: unknown) => ({ data: undefined, error: e, response: undefined }));
    if (error || !data) {
      if ((error as Error | undefined)?.name === "AbortError") return;
      const code = (error as { code?: string } | undefined)?.code;
      if (code === "too_many_cells") showHint("Zoom in to see the grid here");
      else if (response) showProblem(error);
      setStatus("");
      return;
    }
    showProblem(null);
    const found = data as unknown as SearchBody;
    viewTiles = found.tiles;
    for (const z of found.zones) zonesSeen.add(z);
    // Zones not in view any more are forgotten (unless switched off, so they can be switched on).
    zonesSeen = new Set([...found.zones, ...zonesOff]);
    renderZones();
    render();
    if (withMinis) {
      const splitCodes = new Set(split.keys());
      for (const m of found.minitiles) {
        if (splitCodes.has(parentCode(m.code)) || !m.footprint) continue;
        L.polygon(latlngs(m.footprint), { ...S.faint, renderer: canvas }).addTo(faint);
      }
    }
    setStatus(`${found.tiles.length} tiles${withMinis ? `, ${found.minitiles.length} minitiles` : ""} in view.`);
  }

  function renderZones() {
    const zones = [...zonesSeen].sort();
    if (zones.length < 2) {
      zonesEl.innerHTML = "";
      return;
    }
    zonesEl.innerHTML = `<fieldset class="zones"><legend>UTM zones in view (their grids overlap along the boundary)</legend>
      ${zones.map((z) => `<label class="inline"><input type="checkbox" data-zone="${esc(z)}" ${zonesOff.has(z) ? "" : "checked"} /> Zone ${esc(z)}</label>`).join(" ")}
    </fieldset>`;
    for (const box of zonesEl.querySelectorAll<HTMLInputElement>("[data-zone]")) {
      box.addEventListener("change", () => {
        const z = box.dataset["zone"]!;
        if (box.checked) zonesOff.delete(z);
        else zonesOff.add(z);
        if (zonesOff.size >= zonesSeen.size) {
          // at least one zone stays on: an empty filter would mean every zone
          zonesOff.delete(z);
          box.checked = true;
          return;
        }
        void refresh();
      });
    }
  }

  function summarise() {
    const cells = [...sel().values()];
    const tiles = cells.filter((c) => c.kind === "tile");
    const minis = cells.filter((c) => c.kind === "minitile");
    const km = (xs: GridCell[]) => xs.reduce((a, c) => a + (c.areaKm2 ?? 0), 0);
    statsEl.innerHTML = `
      <dt>Tiles</dt><dd data-count="tiles">${tiles.length} · ${fmtKm2(km(tiles))}</dd>
      <dt>Minitiles</dt><dd data-count="minitiles">${minis.length} · ${fmtKm2(km(minis))}</dd>
      <dt>Total</dt><dd data-count="total">${cells.length} cells · ${fmtKm2(km(cells))}</dd>`;
    // One row per tile, or per split tile with the count of its selected minitiles.
    const groups = new Map<string, GridCell[]>();
    for (const c of cells) {
      const key = c.kind === "tile" ? c.guid : `m:${c.parent}`;
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    const rows = [...groups.entries()];
    const shown = rows.slice(0, 80);
    listEl.innerHTML = shown
      .map(([key, cs]) => {
        const first = cs[0]!;
        const label = first.kind === "tile" ? first.code : `${first.parent} · ${cs.length} minitile${cs.length === 1 ? "" : "s"}`;
        return `<li><span>${esc(label)}</span> <span class="muted">${fmtKm2(km(cs))}</span>
          <button type="button" class="btn-link" data-remove="${esc(key)}" aria-label="Remove ${esc(label)}">Remove</button></li>`;
      })
      .join("") + (rows.length > shown.length ? `<li class="muted">… and ${rows.length - shown.length} more</li>` : "");
  }
  listEl.addEventListener("click", (e) => {
    const guid = (e.target as HTMLElement).closest<HTMLElement>("[data-remove]")?.dataset["remove"];
    if (!guid) return;
    store.updateDraft((d) => {
      if (guid.startsWith("m:")) {
        for (const c of [...d.cells.values()]) if (c.kind === "minitile" && c.parent === guid.slice(2)) d.cells.delete(c.guid);
      } else d.cells.delete(guid);
    });
    render();
  });

  async function optimise() {
    const fc = draw.features();
    const aoi = store.get().draft.aoi;
    if (!fc.features.length && !aoi?.geometry) {
      setStatus("Draw the polygon to optimise: click to add points, click the first point or press Enter to finish.");
      draw.start("Polygon", () => void optimise());
      return;
    }
    const geojson = (fc.features.length ? fc : aoi!.geometry) as unknown as Record<string, unknown>;
    setStatus("Optimising…");
    const { data, error } = await api.POST("/v1/tiles/optimize", { body: { geojson, footprints: true } });
    if (error || !data) {
      showProblem(error);
      setStatus("");
      return;
    }
    showProblem(null);
    const r = data as unknown as OptimiseBody;
    store.updateDraft((d) => {
      d.cells.clear();
      for (const c of [...r.tiles, ...r.minitiles]) d.cells.set(c.guid, toCell(c));
    });
    // The parents of the chosen minitiles are split so their other minitiles can be added by hand.
    const parents = [...new Set(r.minitiles.map((m) => parentCode(m.code)))];
    for (const p of parents) if (!split.has(p)) split.set(p, r.minitiles.filter((m) => parentCode(m.code) === p));
    optEl.innerHTML = `<div class="note">
      <strong>Optimised:</strong> ${r.tiles.length} tiles (${fmtKm2(r.tiles_km2)}) and ${r.minitiles.length} minitiles (${fmtKm2(r.minitiles_km2)})
      for a ${fmtKm2(r.polygon_km2)} polygon${r.uncovered_km2 > 0.005 ? `, ${fmtKm2(r.uncovered_km2)} outside the grid` : ""}.
      Cost ${(r.cost_factor * 100).toFixed(0)} % of polygon pricing${r.polygon_is_cheaper ? ` — <strong>Polygon mode is cheaper for this area</strong>` : ""}.</div>`;
    setStatus(`Optimised into ${r.tiles.length + r.minitiles.length} cells.`);
    render();
    const b = layer instanceof L.LayerGroup ? L.featureGroup(layer.getLayers()).getBounds() : null;
    if (b?.isValid() && !map.getBounds().contains(b)) map.fitBounds(b, { padding: [30, 30] });
    // Lazily complete the split tiles with their unselected minitiles (few requests at a time).
    void (async () => {
      for (const p of parents.slice(0, 40)) {
        if (!active) return;
        const { data: more } = await api.GET("/v1/tiles/{guid}/minitiles", { params: { path: { guid: p } } });
        if (more && split.has(p)) split.set(p, (more as unknown as MinitilesBody).minitiles);
      }
      if (active) render();
    })();
  }

  /** The cell under the map's centre: the keyboard's way to click. */
  function centreCell(): GridCell | null {
    const c = map.getCenter();
    let best: GridCell | null = null;
    for (const [p, cell] of cellOf) {
      if (inside(c, p) && (!best || cell.kind === "minitile")) best = cell;
    }
    return best;
  }

  btn("split").addEventListener("click", () => activeCode && void splitTile(activeCode));
  btn("merge").addEventListener("click", () => activeCode && void mergeTile(activeCode));
  btn("optimise").addEventListener("click", () => void optimise());
  btn("clear").addEventListener("click", () => {
    store.updateDraft((d) => d.cells.clear());
    optEl.innerHTML = "";
    render();
  });

  map.getContainer().addEventListener("keydown", (e) => {
    if (!active || draw.drawing() || e.target !== map.getContainer()) return;
    const cell = centreCell();
    if (!cell) return;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      toggle(cell);
    } else if (e.key === "s" || e.key === "S") {
      if (cell.kind === "tile") void splitTile(cell.code!);
    } else if (e.key === "m" || e.key === "M") {
      void mergeTile(cell.kind === "tile" ? cell.code! : cell.parent!);
    }
  });

  const onMove = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void refresh(), 250);
  };

  return {
    activate() {
      active = true;
      layer.addTo(map);
      faint.addTo(map);
      map.getContainer().append(hint, cross);
      map.on("moveend", onMove);
      void refresh();
    },
    deactivate() {
      active = false;
      abort?.abort();
      map.off("moveend", onMove);
      layer.remove();
      faint.remove();
      hint.remove();
      cross.remove();
    },
  };
}
