/**
 * Cross-origin access (CORS), in place of Colyseus' default, which reflects any `Origin` with
 * credentials on every route (the monitor included). Here only the game's public routes answer a
 * cross-origin request, and only for an origin the operator lists (CORS_ORIGINS): that origin
 * echoed, with credentials (the SDK's matchmaking requests send them). The monitor and /metrics
 * never do. The pages this server serves are same-origin and need none of it.
 */

/** Routes a listed origin's page may call: matchmaking, guest login, the lobby, replay pages. */
const PUBLIC_ROUTES = ["/auth/guest", "/rooms", "/watch", "/replay/rounds"];
const PUBLIC_PREFIXES = ["/matchmake/"];

const PREFLIGHT_HEADERS = {
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "Origin, X-Requested-With, Content-Type, Accept, Authorization",
  "access-control-max-age": "600",
};

export type CorsPolicy = (origin: string | undefined, path: string, preflight: boolean) => Record<string, string>;

/** The CORS headers of a request from `origin` to `path`: none unless both are allowed. */
export function corsPolicy(origins: readonly string[]): CorsPolicy {
  const allowed = new Set(origins);
  return (origin, path, preflight) => {
    if (origin === undefined || !allowed.has(origin)) return {};
    if (!PUBLIC_ROUTES.includes(path) && !PUBLIC_PREFIXES.some((p) => path.startsWith(p))) return {};
    return {
      "access-control-allow-origin": origin,
      "access-control-allow-credentials": "true",
      vary: "Origin",
      ...(preflight ? PREFLIGHT_HEADERS : {}),
    };
  };
}
