// The stats service's RPC server (ws + msgpack at /rpc, wire format in rpc-protocol.ts), around the
// store (ServiceContext): the upgrade, with the token, to a connection (rpc-connection.ts). A bad
// frame is answered (or, after too many, the connection is closed with a reason) and counted; it
// never reaches the store.
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer } from "ws";
import { serveConnection } from "./rpc-connection.ts";
import { MAX_FRAME_BYTES, RPC_PATH } from "./rpc-protocol.ts";
import type { ServiceContext } from "./service-context.ts";

export interface RpcServer {
  /** the HTTP server's "upgrade" handler: /rpc with the token, refused otherwise */
  onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** terminates every connection */
  close(): void;
}

export function rpcServer(ctx: ServiceContext): RpcServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });

  function onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on("error", () => ctx.metrics.errors.inc({ transport: "rpc", code: "socket" }));
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path !== RPC_PATH) return refuseUpgrade(socket, 404, "Not Found");
    if (!ctx.authorized(req.headers.authorization)) {
      ctx.metrics.errors.inc({ transport: "rpc", code: "unauthorized" });
      return refuseUpgrade(socket, 401, "Unauthorized");
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ctx, ws));
  }

  return {
    onUpgrade,
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

function refuseUpgrade(socket: Socket, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
