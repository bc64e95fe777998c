/**
 * Every HTTP request: the body cap (the router buffers bodies without a limit), then the
 * responders `ahead`, each answering what is its own without the router (CORS preflights,
 * cors-policy.ts; the guest login's gate, guest-route.ts; the browser pages' files,
 * page-route.ts; replay pages, replay-route.ts: a request through the router costs several times
 * more), then Colyseus' router through `route`, our adapter (router-adapter.ts), in place of the
 * listener Colyseus bound.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { PageResponder } from "./page-route.ts";
import { admitBody, type RequestRefusal } from "./request-limits.ts";

export function frontColyseus(
  httpServer: HttpServer,
  maxBodyBytes: number,
  refused: (reason: RequestRefusal) => void,
  ahead: readonly PageResponder[],
  route: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  httpServer.removeAllListeners("request");
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!admitBody(req, res, maxBodyBytes, refused)) return;
    if (ahead.some((respond) => respond(req, res))) return;
    route(req, res);
  });
}
