// STATS_DB picks the store: postgres:// or postgresql:// -> PostgresStore; a file path or
// :memory: -> SqliteStore (the embedded default); any other URL scheme is refused, so that a typo
// or an unsupported database never silently becomes an SQLite file under a folder named "mysql:".
// openStore() then runs store.open() until it succeeds, with backoff: a database that is not up yet
// is a wait (logged with the reason, /healthz not ready), never a crash loop.
import { Backoff } from "../../../shared/backoff.ts";
import type { Logger } from "../../observability/log.ts";
import { call, run, sleep, type Task } from "../../runtime/index.ts";
import { PostgresStore } from "./postgres-store.ts";
import { SqliteStore } from "./sqlite-store.ts";
import type { StatsStore } from "./stats-store.ts";

export type StoreLocation = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** Throws a RangeError naming the scheme when `db` is a URL of a database we do not speak. */
export function parseStoreLocation(db: string): StoreLocation {
  if (db === "")
    throw new RangeError("STATS_DB (--db): must not be empty (an SQLite file, :memory: or a postgres:// URL)");
  const scheme = URL_SCHEME.exec(db)?.[1].toLowerCase();
  if (scheme === undefined) return { kind: "sqlite", path: db };
  if (scheme !== "postgres" && scheme !== "postgresql") {
    throw new RangeError(
      `STATS_DB (--db): unsupported URL scheme "${scheme}://": use postgres://user@host:port/db, an SQLite file path or :memory:`,
    );
  }
  try {
    new URL(db);
  } catch {
    throw new RangeError(`STATS_DB (--db): not a valid PostgreSQL URL: ${db}`);
  }
  return { kind: "postgres", url: db };
}

export interface StoreOptions {
  /** PostgreSQL: connections in the pool */
  poolSize: number;
  /** PostgreSQL: bound of one statement, ms */
  statementTimeoutMs: number;
  log: Logger;
}

/** Builds the store `db` names; PostgreSQL is not contacted yet (openStore does that). */
export function createStore(db: string, opts: StoreOptions): StatsStore {
  const where = parseStoreLocation(db);
  return where.kind === "sqlite"
    ? new SqliteStore(where.path)
    : new PostgresStore({
        url: where.url,
        poolSize: opts.poolSize,
        statementTimeoutMs: opts.statementTimeoutMs,
        log: opts.log,
      });
}

export interface OpenStoreOptions {
  log: Logger;
  /** backoff bounds between attempts, ms (default 100 .. 5000; shared/backoff.ts, full jitter) */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** each failed attempt, with its reason (for /healthz and metrics) */
  onError?: (err: Error) => void;
}

/**
 * Calls store.open() until it succeeds; between attempts waits the one project backoff (doubling
 * ceiling up to retryMaxMs, full jitter, so replicas started together spread out). Each failure is
 * logged (warn, with the reason and the wait). The task completes when the store is ready;
 * halting it (the service closing first) stops retrying and cancels the wait.
 */
export function openStore(store: StatsStore, opts: OpenStoreOptions): Task<void> {
  const backoff = new Backoff({ minMs: opts.retryMinMs ?? 100, maxMs: opts.retryMaxMs ?? 5000 });
  return run(
    function* () {
      for (;;) {
        try {
          yield* call("store.open", () => store.open());
          return;
        } catch (err) {
          const ms = backoff.next();
          opts.onError?.(err as Error);
          opts.log.warn("stats store not ready, retrying", {
            store: store.kind,
            error: (err as Error).message,
            retryInMs: ms,
          });
          yield* sleep(ms);
        }
      }
    },
    { name: "open-store" },
  );
}
