// What the stats service's two front doors (http-routes.ts, rpc-server.ts) share around the store:
// the store and whether it is open, the fault knobs, the metrics, the log, the token check, and
// `later`, which runs an answer after the injected delay and contains its failure.
import { timingSafeEqual } from "node:crypto";
import type { Logger } from "../observability/log.ts";
import type { FaultInjector } from "./faults.ts";
import type { ServiceMetrics } from "./metrics.ts";
import type { WireError } from "./rpc-protocol.ts";
import type { StatsStore } from "./store/stats-store.ts";

/** Failed requests are logged at most once per this period, with the count of those not logged. */
const ERROR_LOG_EVERY_MS = 1000;

export interface ServiceContext {
  readonly store: StatsStore;
  /** why the store is not open yet (PostgreSQL unreachable, "opening"), undefined once it is */
  storeError(): string | undefined;
  /** the per-request answer while the store is not open */
  notReady(): WireError;
  readonly faults: FaultInjector;
  readonly metrics: ServiceMetrics;
  readonly log: Logger;
  /** `Authorization: Bearer <service token>`, compared in constant time */
  authorized(header: string | undefined): boolean;
  /**
   * Runs `answer` after the injected delay (at once when there is none). A failure in it (an SQLite
   * error, PostgreSQL gone, a statement timeout) is counted, logged (at most once a second, with
   * the count since the last line) and turned into an error answer by `onError`: it never reaches
   * the event loop, so it cannot take the process down.
   */
  later(answer: () => Promise<void>, onError: (message: string) => void): void;
  /** cancels the answers still waiting for their injected delay */
  close(): void;
}

export function serviceContext(parts: {
  store: StatsStore;
  storeError: () => string | undefined;
  faults: FaultInjector;
  metrics: ServiceMetrics;
  log: Logger;
  token: string;
}): ServiceContext {
  const { store, storeError, faults, metrics, log } = parts;
  const tokenBytes = Buffer.from(parts.token);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let errorLoggedAt = -Infinity;
  let errorsNotLogged = 0;

  function later(answer: () => Promise<void>, onError: (message: string) => void): void {
    const run = async () => {
      try {
        await answer();
      } catch (err) {
        metrics.errors.inc({ transport: "internal" });
        const now = performance.now();
        if (now - errorLoggedAt < ERROR_LOG_EVERY_MS) errorsNotLogged++;
        else {
          log.error("stats request failed", {
            error: (err as Error).message,
            store: store.kind,
            notLogged: errorsNotLogged,
          });
          errorLoggedAt = now;
          errorsNotLogged = 0;
        }
        onError(`stats store error: ${(err as Error).message}`);
      }
    };
    const ms = faults.delayMs();
    if (ms === 0) return void run();
    const t = setTimeout(() => {
      timers.delete(t);
      void run();
    }, ms);
    timers.add(t);
  }

  return {
    store,
    storeError,
    faults,
    metrics,
    log,
    later,
    notReady: () => ({ e: "unavailable", m: `stats store not ready: ${storeError()}` }),
    authorized(header) {
      if (header === undefined || !header.startsWith("Bearer ")) return false;
      const given = Buffer.from(header.slice(7));
      return given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes);
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
