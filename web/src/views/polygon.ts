// Polygon mode: Draw (polygon, rectangle), Import (file picker or a file dropped on the map), Paste
// (WKT, EWKT, GeoJSON, JSON). Every input goes to POST /v1/aois:validate (a dry run) and, when
// accepted, to POST /v1/aois; the report is shown per part and a refusal is marked on the map.
import L from "../leafletGlobal";
import type { Ctx } from "../main";
import { problemText, rawFetch, type Problem } from "../api/client";
import type { AoiBody, AoiWhere, ValidationBody } from "../api/types";
import * as store from "../state";
import { drawing, type Drawing } from "../draw";
import { readPolys } from "../preview";
import { esc, fmtKm2, fmtNum } from "../format";

export interface ModeView {
  activate(): void;
  deactivate(): void;
}

type Input =
  | { kind: "drawn" }
  | { kind: "file"; file: File }
  | { kind: "text"; text: string };

interface Options {
  repair: boolean;
  dissolve: boolean;
}

/** What the AOI service reads (shared/geo/readers.py); the picker offers these, the service decides. */
const ACCEPT = [
  ".geojson", ".json", ".wkt", ".txt", ".kml", ".kmz", ".zip", ".shp", ".gpkg", ".gml", ".xml", ".fgb",
  ".gpx", ".csv", ".topojson",
].join(",");

export function mountPolygon(body: HTMLElement, ctx: Ctx): ModeView {
  const map = ctx.map;
  const draw: Drawing = drawing(map);
  body.innerHTML = `
    <div class="toolbar" role="toolbar" aria-label="Polygon tools">
      <button type="button" class="btn" data-act="draw" aria-pressed="false">Draw</button>
      <button type="button" class="btn" data-act="rect" aria-pressed="false">Rectangle</button>
      <button type="button" class="btn" data-act="edit" aria-pressed="false">Edit shapes</button>
      <button type="button" class="btn" data-act="import">Import</button>
      <button type="button" class="btn" data-act="paste" aria-expanded="false" aria-controls="paste-box">Paste</button>
      <button type="button" class="btn" data-act="clear">Clear</button>
    </div>
    <p class="muted small" data-hint>Draw on the map (click to add points; click the first point, double-click or press Enter to finish), import a file, drop one on the map, or paste text.</p>
    <input type="file" class="sr-only" id="aoi-file" aria-label="AOI file" accept="${ACCEPT}" tabindex="-1" />
    <div id="paste-box" class="paste-box" hidden>
      <label for="aoi-text">AOI text (WKT, EWKT, GeoJSON or JSON)</label>
      <textarea id="aoi-text" spellcheck="false" placeholder="POLYGON((10 50, 10.3 50, 10.3 50.2, 10 50.2, 10 50))"></textarea>
      <div class="toolbar"><button type="button" class="btn btn-primary" data-act="use-text">Use this area</button></div>
    </div>
    <fieldset class="options">
      <legend>Import options</legend>
      <label class="inline"><input type="checkbox" data-opt="repair" /> Repair invalid rings</label>
      <label class="inline"><input type="checkbox" data-opt="dissolve" /> Dissolve overlapping parts</label>
    </fieldset>
    <div data-status aria-live="polite"></div>
    <div data-problem></div>
    <div data-report></div>`;
  const $ = <T extends HTMLElement>(sel: string) => body.querySelector<T>(sel)!;
  const btn = (act: string) => $<HTMLButtonElement>(`[data-act="${act}"]`);
  const fileInput = $<HTMLInputElement>("#aoi-file");
  const pasteBox = $<HTMLElement>("#paste-box");
  const textArea = $<HTMLTextAreaElement>("#aoi-text");
  const statusEl = $<HTMLElement>("[data-status]");
  const problemEl = $<HTMLElement>("[data-problem]");
  const reportEl = $<HTMLElement>("[data-report]");
  const optBox = (k: keyof Options) => $<HTMLInputElement>(`[data-opt="${k}"]`);

  const marks = L.layerGroup().addTo(map);
  // SVG, not the canvas: the few marks of a refusal are DOM elements (path.failing-part,
  // path.failing-coordinate) that people's tools and the browser tests can find.
  const markRenderer = L.svg();
  let active = false;
  let input: Input | null = null;
  let loading = false; // an accepted import is being loaded into the drawing: not a user edit
  let seq = 0; // answers of an older run are dropped
  let timer: number | undefined;

  const options = (): Options => ({ repair: optBox("repair").checked, dissolve: optBox("dissolve").checked });

  function setStatus(text: string, cls = "") {
    statusEl.className = cls;
    statusEl.textContent = text;
  }

  function clearResult() {
    problemEl.innerHTML = "";
    reportEl.innerHTML = "";
    marks.clearLayers();
    for (const l of draw.layers()) l.setStyle({ color: "#0b5cad", fillColor: "#0b5cad" });
  }

  function syncButtons() {
    const shape = map.pm.Draw.getActiveShape?.() as string | undefined;
    const drawingNow = draw.drawing();
    btn("draw").setAttribute("aria-pressed", String(drawingNow && shape === "Polygon"));
    btn("rect").setAttribute("aria-pressed", String(drawingNow && shape === "Rectangle"));
    btn("edit").setAttribute("aria-pressed", String(map.pm.globalEditModeEnabled()));
  }
  map.on("pm:drawstart pm:drawend pm:globaleditmodetoggled", syncButtons);

  function request(path: string, inp: Input, opts: Options, extraHeaders: Record<string, string> = {}): Promise<Response> {
    const q = new URLSearchParams();
    if (opts.repair) q.set("repair", "true");
    if (opts.dissolve) q.set("dissolve", "true");
    const headers: Record<string, string> = { ...extraHeaders };
    let payload: BodyInit;
    if (inp.kind === "file") {
      const form = new FormData();
      form.append("file", inp.file, inp.file.name);
      for (const [k, v] of q) form.append(k, v);
      q.delete("repair");
      q.delete("dissolve");
      payload = form; // the browser sets multipart/form-data with its boundary
    } else if (inp.kind === "drawn") {
      q.set("name", "Drawn area");
      payload = JSON.stringify(draw.features());
      headers["Content-Type"] = "application/json";
    } else {
      const t = inp.text.trim();
      payload = inp.text;
      headers["Content-Type"] = t.startsWith("{") || t.startsWith("[") ? "application/json" : "text/plain";
      q.set("name", "Pasted area");
    }
    const qs = q.toString();
    return rawFetch(`${path}${qs ? `?${qs}` : ""}`, { method: "POST", body: payload, headers });
  }

  async function run(inp: Input) {
    input = inp;
    const my = ++seq;
    clearResult();
    store.updateDraft((d) => {
      d.aoi = null;
    });
    if (inp.kind === "drawn" && draw.count() === 0) {
      setStatus("");
      return;
    }
    const opts = options();
    setStatus("Validating…");
    let res: Response;
    try {
      res = await request("/v1/aois:validate", inp, opts);
    } catch {
      if (my === seq) showProblem({ detail: "The AOI service could not be reached; check your connection and try again." }, inp);
      return;
    }
    if (my !== seq) return;
    const body = (await res.json().catch(() => null)) as unknown;
    if (!res.ok) {
      setStatus("");
      showProblem(body as Problem, inp);
      return;
    }
    const v = body as ValidationBody;
    showReport(v);
    if (inp.kind !== "drawn") {
      loading = true;
      draw.clear();
      draw.load(v.geometry);
      loading = false;
      const b = draw.group.getBounds();
      if (b.isValid()) map.fitBounds(b, { padding: [30, 30], maxZoom: 13 });
    }
    setStatus("Saving the area…");
    try {
      res = await request("/v1/aois", inp, opts, { "Idempotency-Key": crypto.randomUUID() });
    } catch {
      if (my === seq) setStatus("The area is valid but could not be saved; try again.", "alert");
      return;
    }
    if (my !== seq) return;
    const saved = (await res.json().catch(() => null)) as unknown;
    if (!res.ok) {
      setStatus("");
      showProblem(saved as Problem, inp);
      return;
    }
    const aoi = saved as AoiBody;
    store.updateDraft((d) => {
      d.aoi = {
        id: aoi.id,
        name: aoi.name ?? undefined,
        areaKm2: aoi.report.totals.area_km2,
        billableKm2: aoi.report.totals.billable_km2,
        parts: aoi.report.totals.parts,
        geometry: aoi.geometry,
      };
    });
    setStatus(`Area ready to configure (${aoi.report.totals.parts} part${aoi.report.totals.parts === 1 ? "" : "s"}, ${fmtKm2(aoi.report.totals.billable_km2)} billable).`, "ok");
  }

  function showReport(v: ValidationBody) {
    const r = v.report;
    const rows = r.parts
      .map((p) => {
        const warns = r.warnings.filter((w) => partsOf(w).includes(p.index));
        return `<tr data-part="${p.index}">
          <th scope="row">${p.index}</th><td>${esc(p.kind)}</td>
          <td class="num">${fmtNum(p.area_km2)}</td><td class="num">${fmtNum(p.billable_km2)}</td>
          <td>${warns.length ? warns.map((w) => esc(w.code.replace(/_/g, " "))).join(", ") : "—"}</td></tr>`;
      })
      .join("");
    const overlap = r.warnings.some((w) => w.code === "overlap");
    reportEl.innerHTML = `
      <h3>Validation report <span class="muted">(${esc(v.source_format)})</span></h3>
      <table class="report">
        <thead><tr><th scope="col">Part</th><th scope="col">Kind</th><th scope="col" class="num">Area km²</th>
        <th scope="col" class="num">Billable km²</th><th scope="col">Warnings</th></tr></thead>
        <tbody>${rows}</tbody>
        <tfoot><tr><th scope="row">All</th><td>${r.totals.parts} part${r.totals.parts === 1 ? "" : "s"}</td>
        <td class="num">${fmtNum(r.totals.area_km2)}</td><td class="num">${fmtNum(r.totals.billable_km2)}</td><td></td></tr></tfoot>
      </table>
      ${r.warnings.length ? `<ul class="warnings">${r.warnings.map((w) => `<li><strong>${esc(w.code.replace(/_/g, " "))}</strong>: ${esc(w.message)}</li>`).join("")}</ul>` : ""}
      ${overlap && !options().dissolve ? `<button type="button" class="btn" data-fix="dissolve">Dissolve overlaps</button>` : ""}`;
    reportEl.querySelector<HTMLButtonElement>('[data-fix="dissolve"]')?.addEventListener("click", () => {
      optBox("dissolve").checked = true;
      if (input) void run(input);
    });
    // Hovering a row shows its part on the map.
    for (const tr of reportEl.querySelectorAll<HTMLTableRowElement>("tr[data-part]")) {
      const part = r.parts[Number(tr.dataset["part"]) - 1];
      if (!part) continue;
      const [w, s, e, n] = part.bbox;
      const box = L.rectangle([[s, w], [n, e]], { color: "#f0a202", weight: 2, fill: false, dashArray: "4 4", interactive: false });
      tr.addEventListener("mouseenter", () => box.addTo(map));
      tr.addEventListener("mouseleave", () => box.remove());
    }
  }

  async function showProblem(p: Problem | null, inp: Input) {
    const where = (p?.["where"] ?? {}) as AoiWhere;
    const code = String(p?.code ?? "");
    const canRepair = code === "invalid_ring" && !options().repair;
    const canDissolve = /dissolve=true/.test(String(p?.detail ?? "")) && !options().dissolve;
    problemEl.innerHTML = `
      <div class="alert" role="alert">
        <strong>${esc(code ? code.replace(/_/g, " ") : "Refused")}</strong>: ${esc(problemText(p, "The area was refused."))}
        ${where.part ? `<div>Part ${where.part}${where.coordinate ? ` at ${where.coordinate[0].toFixed(4)}, ${where.coordinate[1].toFixed(4)}` : ""} is marked on the map.</div>` : ""}
        <div class="toolbar">
          ${canRepair ? `<button type="button" class="btn" data-fix="repair">Repair and retry</button>` : ""}
          ${canDissolve ? `<button type="button" class="btn" data-fix="dissolve">Dissolve and retry</button>` : ""}
          ${where.coordinate || where.part ? `<button type="button" class="btn" data-fix="show">Show on map</button>` : ""}
        </div>
      </div>`;
    for (const k of ["repair", "dissolve"] as const) {
      problemEl.querySelector<HTMLButtonElement>(`[data-fix="${k}"]`)?.addEventListener("click", () => {
        optBox(k).checked = true;
        if (input) void run(input);
      });
    }
    const bounds = await markWhere(where, inp);
    const box = problemEl.querySelector<HTMLElement>(".alert");
    if (box && where.part) box.dataset["part"] = String(where.part);
    problemEl.querySelector<HTMLButtonElement>('[data-fix="show"]')?.addEventListener("click", () => {
      if (bounds?.isValid()) map.fitBounds(bounds, { padding: [40, 40], maxZoom: 14 });
    });
    if (bounds?.isValid()) map.fitBounds(bounds, { padding: [40, 40], maxZoom: 12 });
  }

  /** Marks the failing part (red) and coordinate (a ring marker); returns what to zoom to. */
  async function markWhere(where: AoiWhere, inp: Input): Promise<L.LatLngBounds | null> {
    marks.clearLayers();
    let bounds: L.LatLngBounds | null = null;
    if (where.part) {
      const i = where.part - 1;
      if (inp.kind === "drawn") {
        const layer = draw.layers()[i];
        if (layer) {
          layer.setStyle({ color: "#a4161a", fillColor: "#a4161a" });
          L.polygon(layer.getLatLngs() as L.LatLng[][], {
            color: "#a4161a", weight: 3, fill: false, dashArray: "6 4", className: "failing-part", renderer: markRenderer, interactive: false,
          }).addTo(marks);
          bounds = layer.getBounds();
        }
      } else {
        const text = inp.kind === "text" ? inp.text : await fileText(inp.file);
        const poly = text ? readPolys(text)[i] : undefined;
        if (poly) {
          const layer = L.polygon(
            poly.map((ring) => ring.filter((c) => Number.isFinite(c[0]) && Number.isFinite(c[1])).map(([x, y]) => [y, x] as L.LatLngTuple)),
            { color: "#a4161a", weight: 3, fillColor: "#a4161a", fillOpacity: 0.15, dashArray: "6 4", className: "failing-part", renderer: markRenderer },
          )
            .bindTooltip(`Part ${where.part}: refused`, { sticky: true })
            .addTo(marks);
          bounds = layer.getBounds();
        }
      }
    }
    if (where.coordinate) {
      const [x, y] = where.coordinate;
      const ll = L.latLng(y, x);
      L.circleMarker(ll, { radius: 9, color: "#a4161a", weight: 3, fillColor: "#ffffff", fillOpacity: 0.6, className: "failing-coordinate", renderer: markRenderer })
        .bindTooltip(`Here: ${x.toFixed(4)}, ${y.toFixed(4)}`, { permanent: true, direction: "top", offset: [0, -8] })
        .addTo(marks);
      bounds = bounds ? bounds.extend(ll) : L.latLngBounds(ll, ll);
    }
    return bounds;
  }

  // ----- controls
  btn("draw").addEventListener("click", () => {
    if (draw.drawing()) draw.cancel();
    else draw.start("Polygon");
    syncButtons();
  });
  btn("rect").addEventListener("click", () => {
    if (draw.drawing()) draw.cancel();
    else draw.start("Rectangle");
    syncButtons();
  });
  btn("edit").addEventListener("click", () => {
    draw.toggleEditing();
    syncButtons();
  });
  btn("clear").addEventListener("click", () => {
    draw.clear();
    input = null;
    clearResult();
    setStatus("");
  });
  btn("import").addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    const f = fileInput.files?.[0];
    if (f) void run({ kind: "file", file: f });
    fileInput.value = "";
  });
  btn("paste").addEventListener("click", () => {
    const open = pasteBox.hidden;
    pasteBox.hidden = !open;
    btn("paste").setAttribute("aria-expanded", String(open));
    if (open) textArea.focus();
  });
  btn("use-text").addEventListener("click", () => {
    if (textArea.value.trim()) void run({ kind: "text", text: textArea.value });
  });
  for (const k of ["repair", "dissolve"] as const) optBox(k).addEventListener("change", () => input && void run(input));

  draw.onChange(() => {
    if (!active || loading) return;
    window.clearTimeout(timer);
    // Edits come in bursts (vertex drags): validate once they settle.
    timer = window.setTimeout(() => void run({ kind: "drawn" }), 350);
  });

  // Drag and drop a file anywhere on the map.
  const mapEl = map.getContainer();
  let depth = 0;
  mapEl.addEventListener("dragenter", (e) => {
    if (!active || !e.dataTransfer?.types.includes("Files")) return;
    depth++;
    mapEl.classList.add("drop-target");
  });
  mapEl.addEventListener("dragleave", () => {
    if (--depth <= 0) {
      depth = 0;
      mapEl.classList.remove("drop-target");
    }
  });
  mapEl.addEventListener("dragover", (e) => {
    if (active && e.dataTransfer?.types.includes("Files")) e.preventDefault();
  });
  mapEl.addEventListener("drop", (e) => {
    depth = 0;
    mapEl.classList.remove("drop-target");
    if (!active) return;
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f) void run({ kind: "file", file: f });
  });
  // Keyboard: Enter finishes the polygon being drawn, Escape cancels it.
  document.addEventListener("keydown", (e) => {
    if (!active || !draw.drawing()) return;
    if (e.key === "Enter") {
      draw.finish();
      syncButtons();
    } else if (e.key === "Escape") {
      draw.cancel();
      syncButtons();
    }
  });

  return {
    activate() {
      active = true;
      marks.addTo(map);
      draw.group.addTo(map);
    },
    deactivate() {
      active = false;
      draw.cancel();
      draw.stopEditing();
      marks.remove();
      syncButtons();
    },
  };
}

function partsOf(w: { [k: string]: unknown }): number[] {
  const out: number[] = [];
  if (typeof w["part"] === "number") out.push(w["part"]);
  if (Array.isArray(w["parts"])) out.push(...(w["parts"] as number[]));
  if (Array.isArray(w["pairs"])) for (const p of w["pairs"] as { parts: number[] }[]) out.push(...p.parts);
  return out;
}

/** Text of a file that is text (KML, GeoJSON, GML, WKT); archives and binaries give null. */
async function fileText(f: File): Promise<string | null> {
  if (f.size > 20 * 1024 * 1024 || /\.(kmz|zip|gpkg|fgb|shp)$/i.test(f.name)) return null;
  const t = await f.text();
  return /^[\s\ufeff]*[{<A-Za-z]/.test(t) ? t.replace(/^\ufeff/, "") : null;
}
