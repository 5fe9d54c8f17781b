// Leaflet-Geoman is an IIFE that extends the global `L`: it must exist before the plugin runs.
import L from "leaflet";

(window as unknown as { L: typeof L }).L = L;
export default L;
