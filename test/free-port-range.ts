/**
 * The first of `count` consecutive TCP ports that were all free on 127.0.0.1 a moment ago, for
 * programs that take a base port and count up from it (start:cluster's PORT and STATS_PORT).
 * Another process may take one before it is used.
 * Errors: rejects after 50 tries without such a range, or if nothing can listen on 127.0.0.1.
 */
import { freePort, isPortFree } from "../server/process/free-port.ts";

export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + count - 1 > 65_535) continue;
    const rest = await Promise.all(Array.from({ length: count - 1 }, (_, i) => isPortFree(base + 1 + i)));
    if (rest.every(Boolean)) return base;
  }
  throw new Error(`no ${count} consecutive free ports on 127.0.0.1 after 50 tries`);
}
