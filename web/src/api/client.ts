// The typed API client: paths, bodies and answers come from the generated schema.d.ts, so a
// contract change the page does not follow fails `tsc`. Relative URLs: the edge serves every API
// from the page's own origin.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { bearer } from "../auth";

export type { components, paths };
export type Schemas = components["schemas"];

const auth: Middleware = {
  async onRequest({ request }) {
    const token = bearer();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: "" });
api.use(auth);

/** RFC 9457 problem document as the services send it (application/problem+json). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  [extra: string]: unknown;
}

export function problemText(p: unknown, fallback = "The request failed."): string {
  if (p && typeof p === "object") {
    const o = p as Problem;
    return String(o.detail ?? o.title ?? fallback);
  }
  return typeof p === "string" && p ? p : fallback;
}

/** For bodies the schema cannot express (multipart upload, raw text): same origin, same token. */
export async function rawFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const token = bearer();
  if (token) headers.set("Authorization", `Bearer ${token}`);
  if (!headers.has("Accept")) headers.set("Accept", "application/json, application/problem+json");
  return fetch(path, { ...init, headers });
}
