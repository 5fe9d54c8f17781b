export function esc(s: unknown): string {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const km2 = new Intl.NumberFormat("en", { maximumFractionDigits: 2, minimumFractionDigits: 2 });
export function fmtKm2(v: number | null | undefined): string {
  return v == null ? "—" : `${km2.format(v)} km²`;
}

export function fmtNum(v: number | null | undefined): string {
  return v == null ? "—" : km2.format(v);
}
