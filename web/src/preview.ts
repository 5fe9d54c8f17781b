// A best-effort local reading of pasted or imported text (GeoJSON, WKT/EWKT, KML, GML), only to mark
// a refused part on the map: the service refuses an AOI without sending its geometry back. The
// service stays the judge; anything this cannot read is simply not drawn.

export type Ring = [number, number][];
export type Poly = Ring[];

function geojsonPolys(obj: unknown, out: Poly[]) {
  if (!obj || typeof obj !== "object") return;
  const o = obj as Record<string, unknown>;
  switch (o["type"]) {
    case "FeatureCollection":
      for (const f of (o["features"] as unknown[]) ?? []) geojsonPolys(f, out);
      return;
    case "Feature":
      geojsonPolys(o["geometry"], out);
      return;
    case "GeometryCollection":
      for (const g of (o["geometries"] as unknown[]) ?? []) geojsonPolys(g, out);
      return;
    case "Polygon":
      out.push(o["coordinates"] as Poly);
      return;
    case "MultiPolygon":
      for (const p of o["coordinates"] as Poly[]) out.push(p);
      return;
    default:
      // a JSON wrapper such as {"GeoJson": ...} or {"Wkt": "..."}
      for (const [k, v] of Object.entries(o)) {
        const key = k.toLowerCase();
        if (key === "geojson") geojsonPolys(typeof v === "string" ? safeJson(v) : v, out);
        if (key === "wkt" && typeof v === "string") out.push(...wktPolys(v));
      }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** POLYGON / MULTIPOLYGON (and EWKT's SRID=...; prefix): every innermost ring list is a polygon. */
export function wktPolys(text: string): Poly[] {
  const body = text.replace(/^\s*SRID=\d+;/i, "").trim();
  if (!/^(MULTI)?POLYGON|^GEOMETRYCOLLECTION/i.test(body)) return [];
  const polys: Poly[] = [];
  // Each "((...), (...))" group with no deeper nesting is one polygon.
  const re = /\(\s*(\([^()]*\)(?:\s*,\s*\([^()]*\))*)\s*\)/g;
  for (const m of body.matchAll(re)) {
    const rings = [...m[1]!.matchAll(/\(([^()]*)\)/g)].map((r) =>
      r[1]!.split(",").map((pair) => {
        const [x, y] = pair.trim().split(/\s+/).map(Number);
        return [x ?? NaN, y ?? NaN] as [number, number];
      }),
    );
    polys.push(rings);
  }
  return polys;
}

function xmlPolys(text: string): Poly[] {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  if (doc.getElementsByTagName("parsererror").length) return [];
  const out: Poly[] = [];
  const polygons = [...doc.getElementsByTagName("*")].filter((e) => e.localName === "Polygon");
  for (const p of polygons) {
    const rings: Ring[] = [];
    for (const e of p.getElementsByTagName("*")) {
      if (e.localName === "coordinates") {
        // KML: "lon,lat[,alt] lon,lat ..."
        rings.push(
          (e.textContent ?? "").trim().split(/\s+/).map((t) => {
            const [x, y] = t.split(",").map(Number);
            return [x ?? NaN, y ?? NaN] as [number, number];
          }),
        );
      } else if (e.localName === "posList") {
        // GML: "a b a b ..." in the CRS's axis order; EPSG:4326 in GML 3 is lat lon.
        const n = (e.textContent ?? "").trim().split(/\s+/).map(Number);
        const latFirst = /4326/.test(p.getAttribute("srsName") ?? doc.documentElement.getAttribute("srsName") ?? "");
        const ring: Ring = [];
        for (let i = 0; i + 1 < n.length; i += 2) ring.push(latFirst ? [n[i + 1]!, n[i]!] : [n[i]!, n[i + 1]!]);
        rings.push(ring);
      }
    }
    if (rings.length) out.push(rings);
  }
  return out;
}

/** The polygons of a text input in their order (the service's part numbers count the same way). */
export function readPolys(text: string): Poly[] {
  const t = text.trim();
  if (!t) return [];
  if (t.startsWith("{")) {
    const out: Poly[] = [];
    geojsonPolys(safeJson(t), out);
    return out;
  }
  if (t.startsWith("<")) return xmlPolys(t);
  return wktPolys(t);
}
