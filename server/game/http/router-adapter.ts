/**
 * Colyseus' router on node:http, in place of the adapter Colyseus binds. That one
 * (@colyseus/better-call 1.3.3, `setResponse`) ends a response only when the body's last write fit
 * the socket's buffer: an answer over ~64 KiB (a replay page, /rooms with hundreds of arenas) never
 * ends, and its keep-alive connection answers nothing more. Here the body is piped with
 * backpressure and the response always ends, or, when the client goes away mid-answer, is
 * destroyed (counted and logged). Also here: CORS per route (cors-policy.ts) and the client's
 * address for the routes that limit per address (peer-address.ts).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { getRequest } from "@colyseus/better-call/node";
import type { CorsPolicy } from "./cors-policy.ts";
import { rememberPeer } from "./peer-address.ts";

export type RouterHandler = (request: Request) => Promise<Response>;

/** What went wrong around a route (the route's own errors are the router's onError). */
export type AdapterFailure = "http_unreadable_request" | "http_route_crash" | "http_answer_aborted";

/** Writes a web Response to a node response: status, headers, the body with backpressure, end. */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  for (const [key, value] of response.headers) if (key !== "set-cookie") res.setHeader(key, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader("set-cookie", cookies);
  res.writeHead(response.status);
  if (response.body === null) {
    res.end();
    return;
  }
  // ends the response after the last chunk; destroys it (and cancels the body) if the client goes away
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), res);
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

/** A `request` listener that answers through `handler` (the router's), CORS by `cors`. */
export function routerListener(
  handler: RouterHandler,
  cors: CorsPolicy,
  failed: (kind: AdapterFailure, err: unknown) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const origin = req.headers.origin;
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors(origin, path, true)).end();
      return;
    }
    for (const [key, value] of Object.entries(cors(origin, path, false))) res.setHeader(key, value);
    let request: Request;
    try {
      request = getRequest({ base: `http://${req.headers.host ?? "localhost"}`, request: req });
    } catch (err) {
      failed("http_unreadable_request", err);
      answer(res, 400, "the request could not be read");
      return;
    }
    rememberPeer(request, req.socket.remoteAddress);
    handler(request).then(
      (response) => writeResponse(res, response).catch((err: unknown) => failed("http_answer_aborted", err)),
      (err: unknown) => {
        failed("http_route_crash", err);
        answer(res, 500, "internal error");
      },
    );
  };
}
