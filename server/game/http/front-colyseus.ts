/**
 * In front of Colyseus' router: the body cap (the router buffers bodies without a limit), then
 * the responders `ahead` (the guest login's gate, guest-route.ts; the browser pages' files,
 * page-route.ts), each answering what is its own. Everything else still goes to Colyseus' own
 * listeners.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from "node:http";
import type { PageResponder } from "./page-route.ts";
import { admitBody, type RequestRefusal } from "./request-limits.ts";

export function frontColyseus(
  httpServer: HttpServer,
  maxBodyBytes: number,
  refused: (reason: RequestRefusal) => void,
  ahead: readonly PageResponder[],
): void {
  const colyseus = httpServer.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  httpServer.removeAllListeners("request");
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!admitBody(req, res, maxBodyBytes, refused)) return;
    if (ahead.some((respond) => respond(req, res))) return;
    for (const listener of colyseus) listener.call(httpServer, req, res);
  });
}
