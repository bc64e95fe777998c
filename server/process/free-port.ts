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

/**
 * The first of `count` consecutive TCP ports that were all free on 127.0.0.1 a moment ago, for
 * programs that take a base port and count up from it (start:cluster's PORT and STATS_PORT).
 * Another process may take one before it is used.
 * Errors: rejects after 50 tries without such a range, or if nothing can listen on 127.0.0.1.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + count - 1 > 65_535) continue;
    const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => isPortFree(base + 1 + i)));
    if (rest.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports on 127.0.0.1 after 50 tries`);
}
