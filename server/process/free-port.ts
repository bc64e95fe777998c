/**
 * Free TCP ports on 127.0.0.1, for programs that cannot take port 0 (such as redis-server, where 0
 * means "no TCP") and for waiting until a port is given back. Another process may take a port
 * between the probe and its use.
 */
import { createServer } from "node:net";

/**
 * A port that was free a moment ago.
 * Errors: rejects if nothing can listen on 127.0.0.1.
 */
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

/** Whether `port` could be listened on a moment ago (false when taken, or on any listen error). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}
