/**
 * A TCP port that was free on 127.0.0.1 a moment ago (for programs that cannot take port 0, such
 * as redis-server, where 0 means "no TCP"). Another process may take it before it is used.
 * Errors: rejects if nothing can listen on 127.0.0.1.
 */
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
