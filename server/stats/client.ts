// The stats client the game server uses. The URL scheme picks the transport: ws:// or wss:// ->
// msgpack RPC over one WebSocket (service path /rpc), http:// or https:// -> HTTP JSON (keep-alive),
// so Skirmish can be pointed at any HTTP stats backend speaking `GET /players/:id/stats`.
// A ws:// URL without a path (`ws://host:port`) means the service's RPC path, /rpc.
import { CoalescingClient, type ClientLog, type StatsClient, type TransportOptions } from "./coalescing-client.ts";
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

export function createStatsClient(given: string, opts: StatsClientOptions): StatsClient {
  const parsed = new URL(given);
  const scheme = parsed.protocol;
  if ((scheme === "ws:" || scheme === "wss:") && parsed.pathname === "/") parsed.pathname = RPC_PATH;
  const url = scheme === "ws:" || scheme === "wss:" ? parsed.href : given;
  const core = new CoalescingClient({
    deadlineMs: opts.deadlineMs ?? 1000,
    batch: opts.batch ?? true,
    lkgSize: opts.lkgSize ?? 10_000,
  });
  const t: TransportOptions = {
    token: opts.token,
    backoffMinMs: opts.backoffMinMs ?? 50,
    backoffMaxMs: opts.backoffMaxMs ?? 1000,
    log: opts.log ?? (() => {}),
  };
  if (scheme === "ws:" || scheme === "wss:") core.attach(new RpcTransport(url, core, t));
  else if (scheme === "http:" || scheme === "https:") core.attach(new HttpTransport(url, core, t));
  else throw new TypeError(`stats URL must be ws://, wss://, http:// or https://, got ${url}`);
  return core;
}
