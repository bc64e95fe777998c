// The stats service: one port, HTTP JSON for people and tools (http-routes.ts), msgpack RPC over
// WebSocket at /rpc for the game server (rpc-server.ts), both around one store (SQLite file, or
// PostgreSQL shared by replicas) and the fault knobs (service-context.ts). This file opens the
// store, listens, and closes everything in order.
// Until the store is open, /players answers 503 `unavailable` and RPC answers `unavailable` per request.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger, type Logger } from "../observability/log.ts";
import { FaultInjector, type Faults } from "./faults.ts";
import { httpRoutes, type HttpRoutes } from "./http-routes.ts";
import { createServiceMetrics, type ServiceMetrics } from "./metrics.ts";
import { RPC_PATH } from "./rpc-protocol.ts";
import { rpcServer, type RpcServer } from "./rpc-server.ts";
import { serviceContext } from "./service-context.ts";
import { createStore, openStore } from "./store/open-store.ts";
import type { StatsStore } from "./store/stats-store.ts";

export type { Faults } from "./faults.ts";

export interface StatsServiceOptions {
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** SQLite file, ':memory:' (default) or a postgres:// URL */
  db?: string;
  /** PostgreSQL: pool size (default 10) and statement bound, ms (default 1000) */
  poolSize?: number;
  statementTimeoutMs?: number;
  token: string;
  faults?: Partial<Faults>;
  /** connection events, writes, fault changes, internal errors (default: silent) */
  log?: Logger;
  /** guest rows nobody read for this long are deleted, where the store can (0 = kept forever, the default) */
  guestTtlS?: number;
}

export interface StatsService {
  readonly port: number;
  readonly rpcUrl: string;
  readonly httpUrl: string;
  /** resolves once the store is open (at once for SQLite; PostgreSQL: when reachable and migrated) */
  readonly storeReady: Promise<void>;
  setFaults(f: Partial<Faults>): void;
  readonly faults: Faults;
  /** the service's own counters and gauges (also on /metrics) */
  counters(): Record<string, number>;
  /** restarts the in-flight peak gauge from the current in-flight count */
  resetPeak(): void;
  close(): Promise<void>;
}

export async function startStatsService(opts: StatsServiceOptions): Promise<StatsService> {
  const host = opts.host ?? "127.0.0.1";
  const log = opts.log ?? createLogger("silent");
  const storage = openStorage(opts, log);
  const { store, opening } = storage;
  const faults = new FaultInjector();
  if (opts.faults) faults.set(opts.faults);
  const metrics = createServiceMetrics();
  const expiry = startGuestExpiry(store, (opts.guestTtlS ?? 0) * 1000, metrics, log);
  const ctx = serviceContext({ store, storeError: storage.error, faults, metrics, log, token: opts.token });
  const routes = httpRoutes(ctx);
  const rpc = rpcServer(ctx);
  const server = statsHttpServer(routes, rpc, metrics);
  await listenOn(server, opts.port ?? 0, host);
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  return {
    port,
    rpcUrl: `ws://${urlHost}:${port}${RPC_PATH}`,
    httpUrl: `http://${urlHost}:${port}`,
    storeReady: storage.ready,
    setFaults: (f) => faults.set(f),
    get faults() {
      return faults.faults;
    },
    counters: () => countersOf(metrics),
    resetPeak: () => {
      metrics.inFlightPeak = metrics.inFlightIds;
    },
    close: () =>
      (closing ??= (async () => {
        clearInterval(expiry);
        ctx.close();
        routes.close();
        rpc.close();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        await opening.halt();
        await store.close();
      })()),
  };
}

/** The store, opening in the background: its error until it is open ("opening" at first), and when it is. */
function openStorage(opts: StatsServiceOptions, log: Logger) {
  const store = createStore(opts.db ?? ":memory:", {
    poolSize: opts.poolSize ?? 10,
    statementTimeoutMs: opts.statementTimeoutMs ?? 1000,
    log,
  });
  let storeError: string | undefined = "opening";
  const opening = openStore(store, { log, onError: (err) => (storeError = err.message) });
  const ready = Promise.resolve(opening).then(() => {
    storeError = undefined;
    log.info("stats store ready", { store: store.kind });
  });
  ready.catch(() => {}); // halted by close() before it opened: nothing to report
  return { store, opening, ready, error: () => storeError };
}

/** Deletes guest rows unread for `guestTtlMs` (none when 0); the interval, for close() to clear. */
function startGuestExpiry(store: StatsStore, guestTtlMs: number, metrics: ServiceMetrics, log: Logger) {
  // every minute, or twice per TTL when that is shorter; a store without expiry keeps its rows
  const expiry =
    guestTtlMs > 0 && store.expireGuests
      ? setInterval(
          () => {
            store.expireGuests!(guestTtlMs).then(
              (n) => {
                metrics.guestRowsExpired.inc(undefined, n);
                if (n > 0) log.info("guest stats expired", { rows: n });
              },
              (err: Error) => {
                metrics.errors.inc({ transport: "internal" });
                log.error("guest stats expiry failed", { error: err.message, store: store.kind });
              },
            );
          },
          Math.min(60_000, guestTtlMs / 2),
        )
      : undefined;
  expiry?.unref();
  return expiry;
}

/** One HTTP server for the routes and the RPC's WebSocket upgrade; a malformed request is counted, answered 400. */
function statsHttpServer(routes: HttpRoutes, rpc: RpcServer, metrics: ServiceMetrics): Server {
  const server: Server = createServer({ keepAliveTimeout: 60_000 }, routes.onRequest);
  server.on("upgrade", rpc.onUpgrade);
  server.on("clientError", (_err, socket) => {
    metrics.errors.inc({ transport: "http", status: "client_error" });
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  return server;
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function countersOf(metrics: ServiceMetrics): Record<string, number> {
  return {
    connections: metrics.connections,
    inFlightIds: metrics.inFlightIds,
    inFlightPeak: metrics.inFlightPeak,
    rpcGetFrames: metrics.requests.get({ transport: "rpc", op: "get" }),
    rpcBatchFrames: metrics.requests.get({ transport: "rpc", op: "batch" }),
    httpGets: metrics.requests.get({ transport: "http", op: "get" }),
    rpcIdsServed: metrics.idsServed.get({ transport: "rpc" }),
    httpIdsServed: metrics.idsServed.get({ transport: "http" }),
    guestRowsExpired: metrics.guestRowsExpired.get(),
  };
}
