// Drawing on the map with Leaflet-Geoman, driven from our own labelled buttons (Geoman's toolbar
// has no accessible names). One feature group holds what the user drew; Polygon mode turns it into
// an AOI, Tiles / Minitiles mode hands it to Optimise.
import L from "./leafletGlobal";
import "@geoman-io/leaflet-geoman-free";
import "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css";

export type Shape = "Polygon" | "Rectangle";

const STYLE: L.PathOptions = { color: "#0b5cad", weight: 2, fillColor: "#0b5cad", fillOpacity: 0.12 };

export class Drawing {
  readonly group: L.FeatureGroup;
  private listeners = new Set<() => void>();
  private onceCreated: ((layer: L.Layer) => void) | null = null;

  constructor(readonly map: L.Map) {
    this.group = L.featureGroup().addTo(map);
    map.pm.setGlobalOptions({
      layerGroup: this.group,
      pathOptions: STYLE,
      templineStyle: { color: "#0b5cad" },
      hintlineStyle: { color: "#0b5cad", dashArray: [5, 5] },
      snappable: true,
      allowSelfIntersection: true, // the service reports (and can repair) a self-intersection
    } as L.PM.GlobalOptions);
    map.pm.setLang("en");
    map.on("pm:create", (e) => {
      const layer = (e as unknown as { layer: L.Layer }).layer;
      this.watch(layer);
      const cb = this.onceCreated;
      this.onceCreated = null;
      cb?.(layer);
      this.changed();
    });
    map.on("pm:remove", () => this.changed());
  }

  private watch(layer: L.Layer) {
    layer.on("pm:edit pm:dragend pm:cut pm:rotateend", () => this.changed());
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed() {
    for (const fn of this.listeners) fn();
  }

  /** Starts drawing; `then` runs once the shape is finished. */
  start(shape: Shape, then?: (layer: L.Layer) => void) {
    this.stopEditing();
    this.onceCreated = then ?? null;
    this.map.pm.enableDraw(shape, { finishOn: shape === "Polygon" ? "dblclick" : null } as L.PM.DrawModeOptions);
    // Geoman also finishes a polygon by clicking its first vertex; dblclick adds the second way.
  }

  drawing(): boolean {
    return this.map.pm.globalDrawModeEnabled();
  }

  cancel() {
    this.map.pm.disableDraw();
    this.onceCreated = null;
  }

  /** Finishes the polygon being drawn (keyboard: Enter), as if its last vertex had been double-clicked. */
  finish() {
    const draw = (this.map.pm.Draw as unknown as Record<string, { _finishShape?: () => void; enabled?: () => boolean }>);
    for (const shape of ["Polygon", "Line"]) {
      const d = draw[shape];
      if (d?.enabled?.() && d._finishShape) d._finishShape();
    }
  }

  toggleEditing(): boolean {
    const on = !this.map.pm.globalEditModeEnabled();
    if (on) this.map.pm.enableGlobalEditMode({ layerGroup: this.group } as L.PM.EditModeOptions);
    else this.map.pm.disableGlobalEditMode();
    return on;
  }

  stopEditing() {
    if (this.map.pm.globalEditModeEnabled()) this.map.pm.disableGlobalEditMode();
  }

  clear() {
    this.cancel();
    this.stopEditing();
    this.group.clearLayers();
    this.changed();
  }

  /** Adds a geometry (e.g. an imported AOI) as editable drawn shapes. */
  load(geometry: GeoJSON.Geometry) {
    const layers = L.geoJSON(geometry as GeoJSON.GeoJsonObject, { style: () => STYLE });
    layers.eachLayer((l) => {
      this.group.addLayer(l);
      this.watch(l);
    });
    this.changed();
  }

  /** The drawn shapes as one FeatureCollection, a feature per shape (a part per feature). */
  features(): GeoJSON.FeatureCollection {
    const features: GeoJSON.Feature[] = [];
    this.group.eachLayer((l) => {
      if (l instanceof L.Polygon) features.push(l.toGeoJSON(15) as GeoJSON.Feature);
    });
    return { type: "FeatureCollection", features };
  }

  count(): number {
    return this.features().features.length;
  }

  /** The layers in drawing order (part i of the AOI is layer i - 1 when each shape is one polygon). */
  layers(): L.Polygon[] {
    const out: L.Polygon[] = [];
    this.group.eachLayer((l) => {
      if (l instanceof L.Polygon) out.push(l);
    });
    return out;
  }
}

let shared: Drawing | null = null;
export function drawing(map: L.Map): Drawing {
  shared ??= new Drawing(map);
  return shared;
}
