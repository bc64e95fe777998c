/**
 * Colyseus' router on node:http, in place of the adapter Colyseus binds. That one
 * (@colyseus/better-call 1.3.3, `setResponse`) ends a response only when the body's last write fit
 * the socket's buffer: an answer over ~64 KiB (a replay page, /rooms with hundreds of arenas) never
 * ends, and its keep-alive connection answers nothing more. Here the response always ends. Also
 * here: the client's address for the routes that limit per address (peer-address.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequest } from "@colyseus/better-call/node";
import { clientAddress } from "./client-address.ts";
import { rememberPeer } from "./peer-address.ts";

export type RouterHandler = (request: Request) => Promise<Response>;

/** What went wrong around a route (the route's own errors are the router's onError). */
export type AdapterFailure = "http_unreadable_request" | "http_route_crash";

/**
 * Writes a web Response to a node response: status, headers, the whole body in one `end` (Node
 * queues what the socket cannot take yet and sends it as the client reads). Every route here
 * builds its answer in memory, so reading the body whole first costs no memory it did not use,
 * and much less CPU than piping a web stream.
 */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const body = response.body === null ? undefined : Buffer.from(await response.arrayBuffer());
  for (const [key, value] of response.headers) if (key !== "set-cookie") res.setHeader(key, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  // a length, not chunks: the whole body is at hand
  if (body !== undefined && !res.hasHeader("content-length")) res.setHeader("content-length", body.length);
  res.writeHead(response.status);
  res.end(body);
}

function answer(res: ServerResponse, status: number, error: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** A `request` listener that answers through `handler` (the router's); `trustProxy` as TRUST_PROXY says. */
export function routerListener(
  handler: RouterHandler,
  trustProxy: number,
  failed: (kind: AdapterFailure, err: unknown) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let request: Request;
    try {
      request = getRequest({ base: `http://${req.headers.host ?? "localhost"}`, request: req });
    } catch (err) {
      failed("http_unreadable_request", err);
      answer(res, 400, "the request could not be read");
      return;
    }
    rememberPeer(request, clientAddress(req, trustProxy));
    handler(request)
      .then((response) => writeResponse(res, response))
      .catch((err: unknown) => {
        failed("http_route_crash", err);
        answer(res, 500, "internal error");
      });
  };
}
