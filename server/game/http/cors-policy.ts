/**
 * Cross-origin access (CORS), in place of Colyseus' default, which reflects any `Origin` with
 * credentials on every route (the monitor included). Here only the game's public routes answer a
 * cross-origin request, and only for an origin the operator lists (CORS_ORIGINS): that origin
 * echoed, with credentials (the SDK's matchmaking requests send them). The monitor and /metrics
 * never do. The pages this server serves are same-origin and need none of it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

/** Routes a listed origin's page may call: matchmaking, guest login, the lobby, replay pages. */
const PUBLIC_ROUTES = ["/auth/guest", "/rooms", "/watch", "/replay/rounds"];
const PUBLIC_PREFIXES = ["/matchmake/"];

const PREFLIGHT_HEADERS = {
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "Origin, X-Requested-With, Content-Type, Accept, Authorization",
  "access-control-max-age": "600",
};

/**
 * Puts the CORS headers a request earns (none unless its origin is listed and its route public)
 * on its response, and answers a preflight (OPTIONS) itself: true when it did.
 */
export function corsResponder(origins: readonly string[]): (req: IncomingMessage, res: ServerResponse) => boolean {
  const allowed = new Set(origins);
  return (req, res) => {
    const origin = req.headers.origin;
    const path = (req.url ?? "/").split("?")[0];
    const granted =
      origin !== undefined &&
      allowed.has(origin) &&
      (PUBLIC_ROUTES.includes(path) || PUBLIC_PREFIXES.some((p) => path.startsWith(p)));
    if (granted) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("access-control-allow-credentials", "true");
      res.setHeader("vary", "Origin");
    }
    if (req.method !== "OPTIONS") return false;
    res.writeHead(204, granted ? PREFLIGHT_HEADERS : {}).end();
    return true;
  };
}
