// Shapes of the answers the dashboard reads, as the services send them today. Where the OpenAPI
// document does not yet type a response these narrow the generated `unknown`s in one place.

export interface PartReport {
  index: number;
  kind: string;
  area_km2: number;
  billable_km2: number;
  bbox: [number, number, number, number];
  vertex_count: number;
  fill_ratio?: number;
  crosses_antimeridian?: boolean;
}

export interface AoiWarning {
  code: string;
  message: string;
  [extra: string]: unknown;
}

export interface AoiReport {
  source_format: string;
  parts: PartReport[];
  totals: { parts: number; area_km2: number; billable_km2: number; vertex_count: number; bbox: number[] };
  warnings: AoiWarning[];
}

export interface ValidationBody {
  valid: boolean;
  name: string | null;
  source_format: string;
  geometry: GeoJSON.Geometry;
  report: AoiReport;
}

export interface AoiBody {
  id: string;
  name: string | null;
  source_format: string;
  geometry: GeoJSON.Geometry;
  report: AoiReport;
}

/** Where a refused AOI fails (shared/geo): a part (1-based), a coordinate, a limit, a line. */
export interface AoiWhere {
  part?: number;
  part_label?: string;
  coordinate?: [number, number];
  reason?: string;
  limit?: string;
  value?: number;
  actual?: number;
  line?: number;
  [extra: string]: unknown;
}

export interface CellBody {
  guid: string;
  code: string;
  zone: string;
  epsg: number;
  footprint?: GeoJSON.Geometry;
  area_km2: number;
  level: "tile" | "minitile";
  share?: number;
  tile?: string;
}

export interface SearchBody {
  tiles: CellBody[];
  minitiles: CellBody[];
  aoi_km2: number;
  zones: string[];
}

export interface MinitilesBody {
  tile: string;
  minitiles: CellBody[];
}

export interface OptimiseBody {
  tiles: CellBody[];
  minitiles: CellBody[];
  tiles_km2: number;
  minitiles_km2: number;
  polygon_km2: number;
  uncovered_km2: number;
  cost_polygon_km2: number;
  cost_factor: number;
  polygon_is_cheaper: boolean;
}

/** What every view of an order shows (the order list, its detail, the map overlay). */
export interface OrderCore {
  id: string;
  status: string;
  model: string;
  mode: string;
  constellations: string[];
  from: string;
  to: string | null;
  recurring: boolean;
  amount: string;
  currency: string;
  created_at: string;
}

export interface OverlayOrder extends OrderCore {
  footprint: GeoJSON.Geometry;
}

export interface OverlayBody {
  orders: OverlayOrder[];
  next_cursor: string | null;
}

export interface ModelsBody {
  models: { id?: string; name?: string; model?: string; [k: string]: unknown }[];
  [k: string]: unknown;
}
