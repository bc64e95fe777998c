// The stats client the game server uses. The URL scheme picks the transport: ws:// or wss:// ->
// msgpack RPC over one WebSocket (service path /rpc), http:// or https:// -> HTTP JSON (keep-alive),
// so Skirmish can be pointed at any HTTP stats backend speaking `GET /players/:id/stats`.
// A ws:// URL without a path (`ws://host:port`) means the service's RPC path, /rpc.
// A comma-separated list of URLs names stats replicas (one database behind them): one transport
// per replica under a BalancingTransport (least in flight, failover).
import { BalancingTransport } from "./balancing-transport.ts";
import {
  CoalescingClient,
  type CallSink,
  type ClientLog,
  type StatsClient,
  type Transport,
  type TransportOptions,
} from "./coalescing-client.ts";
import { HttpTransport } from "./http-client.ts";
import { RpcTransport } from "./rpc-client.ts";
import { RPC_PATH } from "./rpc-protocol.ts";

export { StatsError, type StatsErrorCode } from "./errors.ts";
export type { StatsClient, GetOptions, ClientCounters, ClientLog } from "./coalescing-client.ts";

export interface StatsClientOptions {
  token: string;
  /** default deadline of a get, ms (1000) */
  deadlineMs?: number;
  /** RPC: send the gets of one event-loop turn as one batch frame (default true) */
  batch?: boolean;
  /** how many ids the last-known-good cache keeps (10000) */
  lkgSize?: number;
  /** reconnect backoff / HTTP breaker bounds, ms (50 .. 1000) */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** structured log records of connection events and protocol errors (default: none, counters only) */
  log?: ClientLog;
}

/** `url`: one stats service URL, or several (replicas) separated by commas. */
export function createStatsClient(url: string, opts: StatsClientOptions): StatsClient {
  const urls = url.split(",").map((u) => u.trim());
  const connects = urls.map((u) => transportFor(u));
  const core = new CoalescingClient({
    deadlineMs: opts.deadlineMs ?? 1000,
    batch: opts.batch ?? true,
    lkgSize: opts.lkgSize ?? 10_000,
  });
  const t: TransportOptions = {
    authHeaders: { authorization: `Bearer ${opts.token}` },
    backoffMinMs: opts.backoffMinMs ?? 50,
    backoffMaxMs: opts.backoffMaxMs ?? 1000,
    log: opts.log ?? (() => {}),
  };
  core.attach(
    connects.length === 1
      ? connects[0](core, t)
      : new BalancingTransport(
          core,
          connects.map((c) => (sink: CallSink) => c(sink, t)),
        ),
  );
  return core;
}

function transportFor(given: string): (sink: CallSink, t: TransportOptions) => Transport {
  let parsed: URL;
  try {
    parsed = new URL(given);
  } catch {
    throw new TypeError(`stats URL is not a URL: ${JSON.stringify(given)} (a list of replicas is separated by commas)`);
  }
  const scheme = parsed.protocol;
  if (scheme === "ws:" || scheme === "wss:") {
    if (parsed.pathname === "/") parsed.pathname = RPC_PATH;
    return (sink, t) => new RpcTransport(parsed.href, sink, t);
  }
  if (scheme === "http:" || scheme === "https:") return (sink, t) => new HttpTransport(given, sink, t);
  throw new TypeError(`stats URL must be ws://, wss://, http:// or https://, got ${given}`);
}
