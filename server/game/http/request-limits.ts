/**
 * Bounds on what one HTTP request may cost the game server, applied before any route (Colyseus'
 * router buffers bodies without a limit):
 *
 * - a body larger than `maxBodyBytes` is answered 413 and the connection closed: at once when
 *   Content-Length says so, and as soon as the streamed bytes (chunked) pass the cap;
 * - headers and body must arrive within `timeoutMs` (Node's default lets a slow body live 300 s);
 *   a late request is answered 408 and closed;
 * - a keep-alive connection with no request for `idleTimeoutMs` after an answer is closed;
 * - a connection on which nothing moves for STALLED_CONNECTION_MS is closed (a client that stopped
 *   reading its answer holds no socket for long). Long enough for any route's own work: the
 *   timeout also runs while a route thinks. WebSocket connections are not HTTP connections any
 *   more once upgraded: Node lifts the timeout.
 *
 * Every refusal is reported to `refused(reason)` (counted by the caller); none throws.
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** A connection with no byte read or written for this long is closed. */
export const STALLED_CONNECTION_MS = 60_000;

export interface RequestLimits {
  maxBodyBytes: number;
  timeoutMs: number;
  idleTimeoutMs: number;
}

export type RequestRefusal = "body_too_large" | "request_timeout" | "bad_request";

/** An http.Server whose requests must arrive whole within `timeoutMs`. */
export function limitedHttpServer(limits: RequestLimits, refused: (reason: RequestRefusal) => void): HttpServer {
  const server = createServer({
    requestTimeout: limits.timeoutMs,
    headersTimeout: limits.timeoutMs,
    // Node checks both timeouts on this period (default 30 s): check often enough to cut on time
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.timeoutMs / 4))),
  });
  server.keepAliveTimeout = limits.idleTimeoutMs;
  // no 'timeout' listener: Node destroys a socket on which nothing moved for this long
  server.timeout = STALLED_CONNECTION_MS;
  // With a listener, Node leaves the answer to us: say 408 for a late request, 400 otherwise.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    const late = err.code === "ERR_HTTP_REQUEST_TIMEOUT";
    refused(late ? "request_timeout" : "bad_request");
    // a request already handed to a route (its body was late) is answered through its response
    const res = (socket as { _httpMessage?: ServerResponse })._httpMessage;
    if (res !== undefined && res !== null) {
      if (!res.headersSent) res.writeHead(late ? 408 : 400, { connection: "close", "content-length": 0 }).end();
    } else if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${late ? "408 Request Timeout" : "400 Bad Request"}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    }
    socket.destroySoon();
  });
  return server;
}

/**
 * Admits a request whose body may stay within `maxBodyBytes`; otherwise answers 413 and returns
 * false (the caller must not route it). A chunked body is counted as it streams: past the cap it
 * is answered 413 (if nothing was answered yet) and the connection is closed, so whoever reads
 * the body holds at most the cap plus one chunk.
 */
export function admitBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
  refused: (reason: RequestRefusal) => void,
): boolean {
  const declared = req.headers["content-length"];
  if (declared !== undefined) {
    if (Number(declared) <= maxBodyBytes) return true; // Node's parser enforces the declared length
    refuse(req, res, maxBodyBytes);
    refused("body_too_large");
    return false;
  }
  if (req.headers["transfer-encoding"] === undefined) return true; // no body at all
  let seen = 0;
  const count = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= maxBodyBytes) return;
    req.off("data", count);
    refused("body_too_large");
    if (res.headersSent) req.socket.destroy();
    else refuse(req, res, maxBodyBytes);
  };
  req.on("data", count);
  return true;
}

/** How long a refused connection still reads (and drops) what the client sends before closing. */
const LINGER_MS = 1000;

function refuse(req: IncomingMessage, res: ServerResponse, maxBodyBytes: number): void {
  const body = JSON.stringify({ error: "payload_too_large", message: `request body over ${maxBodyBytes} bytes` });
  // Closing at once with unread bytes queued makes the kernel send a reset, which can destroy
  // the 413 before the client reads it. Instead: answer, half-close, drop what still arrives for
  // at most LINGER_MS (nothing is kept), then close.
  const socket = req.socket;
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    socket.once("close", () => clearTimeout(timer));
  };
  req.resume();
  // 'connection: close' makes Node end the connection (socket.destroySoon) once the answer is out
  res.writeHead(413, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    connection: "close",
  });
  res.end(body);
}
