// Sign-in: a bearer token from the URL fragment (#token=<JWT>, what `make run` prints), kept in
// sessionStorage so a reload stays signed in but a closed tab does not; in production /config.json
// names an OpenID Connect provider and the page signs in with authorization code + PKCE.
import type { UserManager } from "oidc-client-ts";

export type AuthConfig =
  | { mode: "demo" }
  | { mode: "oidc"; issuer: string; client_id: string; scope?: string };

export interface Session {
  token: string;
  account: string;
  mode: AuthConfig["mode"];
}

const KEY = "tessera.token";
let current: Session | null = null;
let oidc: UserManager | null = null;

function claims(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) return {};
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(json) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function accountOf(token: string): string {
  const c = claims(token);
  return String(c["account"] ?? c["sub"] ?? "");
}

function expired(token: string): boolean {
  const exp = claims(token)["exp"];
  return typeof exp === "number" && exp * 1000 < Date.now();
}

/** Takes `#token=` off the address bar so it is not bookmarked or shared by accident. */
function tokenFromFragment(): string | null {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const token = params.get("token");
  if (!token) return null;
  params.delete("token");
  const rest = params.toString();
  history.replaceState(null, "", window.location.pathname + window.location.search + (rest ? `#${rest}` : ""));
  return token;
}

export async function loadConfig(): Promise<AuthConfig> {
  try {
    const res = await fetch("/config.json", { headers: { Accept: "application/json" } });
    if (res.ok) {
      const body = (await res.json()) as { auth?: AuthConfig };
      if (body.auth) return body.auth;
    }
  } catch {
    // no edge (e.g. a bare dev server): behave as the local demo
  }
  return { mode: "demo" };
}

async function oidcManager(cfg: Extract<AuthConfig, { mode: "oidc" }>): Promise<UserManager> {
  if (oidc) return oidc;
  const { UserManager, WebStorageStateStore } = await import("oidc-client-ts");
  oidc = new UserManager({
    authority: cfg.issuer,
    client_id: cfg.client_id,
    redirect_uri: window.location.origin + window.location.pathname,
    response_type: "code",
    scope: cfg.scope ?? "openid profile",
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    automaticSilentRenew: true,
  });
  oidc.events.addUserLoaded((user) => {
    if (current) current.token = user.access_token;
  });
  return oidc;
}

/** Resolves the session, or null when the user has to act (demo without a token). In OIDC mode
 * this may navigate away to the provider. */
export async function signIn(): Promise<{ session: Session | null; config: AuthConfig }> {
  const config = await loadConfig();
  const fromUrl = tokenFromFragment();
  if (fromUrl) sessionStorage.setItem(KEY, fromUrl);
  if (config.mode === "oidc") {
    const mgr = await oidcManager(config);
    const search = new URLSearchParams(window.location.search);
    if (search.has("code") && search.has("state")) {
      await mgr.signinRedirectCallback();
      history.replaceState(null, "", window.location.pathname);
    }
    const user = await mgr.getUser();
    if (!user || user.expired) {
      await mgr.signinRedirect();
      return { session: null, config };
    }
    current = { token: user.access_token, account: accountOf(user.access_token) || String(user.profile.sub), mode: "oidc" };
    return { session: current, config };
  }
  const token = sessionStorage.getItem(KEY);
  if (!token || expired(token)) {
    sessionStorage.removeItem(KEY);
    return { session: null, config };
  }
  current = { token, account: accountOf(token), mode: "demo" };
  return { session: current, config };
}

export function session(): Session | null {
  return current;
}

export function bearer(): string | null {
  return current?.token ?? null;
}

export async function signOut(): Promise<void> {
  sessionStorage.removeItem(KEY);
  const was = current;
  current = null;
  if (was?.mode === "oidc" && oidc) await oidc.signoutRedirect();
}
