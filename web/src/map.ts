// The map: an offline vector basemap from Natural Earth (world-atlas), OpenStreetMap tiles as an
// option when online, and a canvas renderer so thousands of grid cells stay fluid.
import L from "leaflet";
import { feature, mesh } from "topojson-client";
import type { Topology, GeometryCollection } from "topojson-specification";

export const canvas = L.canvas({ padding: 0.5, tolerance: 4 });

export function createMap(el: HTMLElement): L.Map {
  const map = L.map(el, {
    center: [48, 10],
    zoom: 4,
    minZoom: 2,
    maxZoom: 18,
    worldCopyJump: true,
    preferCanvas: true,
    renderer: canvas,
    zoomControl: true,
    keyboard: true,
  });
  map.attributionControl.setPrefix(false);

  // A separate pane under the overlays so the grid, AOIs and orders always sit on top.
  map.createPane("basemap").style.zIndex = "250";
  const baseRenderer = L.canvas({ pane: "basemap", padding: 0.5 });
  const natural = L.layerGroup([], { attribution: "Natural Earth" });
  // Loaded as its own chunk: the shell and the controls paint before the 50m countries arrive.
  void import("world-atlas/countries-50m.json").then((m) => {
    const topo = m.default as unknown as Topology<{ countries: GeometryCollection; land: GeometryCollection }>;
  const land = L.geoJSON(feature(topo, topo.objects.land), {
    pane: "basemap",
    renderer: baseRenderer,
    interactive: false,
    style: { color: "#9aa5b1", weight: 0, fillColor: "#e8e4d8", fillOpacity: 1 },
  } as L.GeoJSONOptions);
  const borders = L.geoJSON(mesh(topo, topo.objects.countries, (a, b) => a !== b), {
    pane: "basemap",
    renderer: baseRenderer,
    interactive: false,
    style: { color: "#8a8f98", weight: 0.8, opacity: 0.9 },
  } as L.GeoJSONOptions);
    natural.addLayer(land).addLayer(borders);
  });
  const osm = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19,
    attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
  });
  natural.addTo(map);
  L.control.layers({ "Natural Earth (offline)": natural, OpenStreetMap: osm }, {}, { position: "topright" }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  el.style.background = "#c9dcec";
  return map;
}
