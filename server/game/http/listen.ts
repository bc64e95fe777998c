/**
 * Listens on `port`/`host`, failing fast: Colyseus subscribes to the HTTP server's 'error' only
 * once it is listening, so a busy port would otherwise leave listen() pending forever.
 */
import type { Server as HttpServer } from "node:http";
import type { Server } from "@colyseus/core";

export function listen(server: Server, httpServer: HttpServer, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    server.listen(port, host).then(() => {
      httpServer.off("error", reject);
      resolve();
    }, reject);
  });
}
