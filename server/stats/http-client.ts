// HTTP transport of the stats client: `GET {base}/players/:id/stats` through Node's fetch (which
// keeps connections alive). An abandoned call aborts its fetch. A connection failure opens a
// short breaker during which gets fail fast with 'unavailable'; the first get after it is the
// probe that closes it. The breaker stays open backoffMinMs plus a full-jitter draw from
// shared/backoff.ts (its window doubling up to backoffMaxMs): jitter alone may draw 0 ms, and a
// breaker that opens for 0 ms sends every get of a dead service to the wire.
import { STAT_FIELDS, type PlayerStats } from "../../shared/stats.ts";
import {
  type Call,
  type CallSink,
  type ClientLog,
  type Transport,
  type TransportOptions,
} from "./coalescing-client.ts";
import { StatsError, type StatsErrorCode } from "./errors.ts";
import { Backoff } from "../../shared/backoff.ts";

/** The integer fields of a stats reply, checked on every answer. */
const REPLY_INT_FIELDS = [...STAT_FIELDS, "version"] as const;

export class HttpTransport implements Transport {
  private readonly base: string;
  private readonly sink: CallSink;
  private readonly headers: Record<string, string>;
  private readonly backoff: Backoff;
  private downUntil = 0;
  private wasDown = false;
  private closed = false;
  private readonly log: ClientLog;
  private lastError = new StatsError("unavailable", "stats service unreachable");

  constructor(url: string, sink: CallSink, opts: TransportOptions) {
    this.base = url.replace(/\/+$/, "");
    this.sink = sink;
    this.headers = { ...opts.authHeaders, accept: "application/json" };
    this.backoff = new Backoff({ minMs: opts.backoffMinMs, maxMs: opts.backoffMaxMs });
    this.log = opts.log;
  }

  get down(): boolean {
    return this.closed || performance.now() < this.downUntil;
  }

  downError(): StatsError {
    return this.closed ? new StatsError("unavailable", "stats client is closed") : this.lastError;
  }

  send(calls: Call[]): void {
    for (const call of calls) void this.fetchOne(call);
  }

  forget(call: Call): void {
    (call.wire as AbortController | undefined)?.abort();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async fetchOne(call: Call): Promise<void> {
    const c = this.sink.tally;
    const ac = new AbortController();
    call.wire = ac;
    c.wireRequests++;
    c.frames++;
    let result: PlayerStats | StatsError;
    try {
      const res = await fetch(`${this.base}/players/${call.id}/stats`, { headers: this.headers, signal: ac.signal });
      const body: unknown = await res.json().catch(() => undefined);
      if (ac.signal.aborted) return; // abandoned while the body was read
      result = res.ok ? parseStats(body, call.id) : errorFromResponse(res.status, body);
      if (res.ok && result instanceof StatsError) {
        c.protocolErrors++;
        this.log({ level: "warn", msg: "stats reply refused", url: this.base, error: result.message });
      }
      if (this.wasDown) {
        this.wasDown = false;
        c.reconnects++;
        this.log({ level: "info", msg: "stats service reachable again", url: this.base });
      }
      this.backoff.reset();
    } catch (err) {
      if (ac.signal.aborted) return; // abandoned by every waiter: nobody is listening
      result = this.lastError = new StatsError("unavailable", `stats service unreachable: ${(err as Error).message}`);
      if (!this.wasDown) {
        c.disconnects++;
        this.log({ level: "warn", msg: "stats service unreachable", url: this.base, error: this.lastError.message });
      }
      this.wasDown = true;
      this.downUntil = performance.now() + this.backoff.minMs + this.backoff.next();
    }
    this.sink.settle(call, result);
  }
}

/**
 * A backend's answer, read tolerantly where its meaning is clear: `id` may be left out (it is in
 * the path). Anything else missing or wrong is refused with the field's name.
 */
function parseStats(body: unknown, id: string): PlayerStats | StatsError {
  if (typeof body !== "object" || body === null) return new StatsError("server", "stats reply is not a JSON object");
  const r = body as Record<string, unknown>;
  if (r.id !== undefined && r.id !== id)
    return new StatsError(
      "server",
      `stats reply field "id" names another player (${JSON.stringify(r.id).slice(0, 40)})`,
    );
  const out = { id, version: 0 } as PlayerStats;
  for (const f of REPLY_INT_FIELDS) {
    const v = r[f];
    if (!Number.isInteger(v))
      return new StatsError("server", `stats reply field "${f}" is ${v === undefined ? "missing" : "not an integer"}`);
    out[f] = v as number;
  }
  return out;
}

function errorFromResponse(status: number, body: unknown): StatsError {
  const message =
    typeof body === "object" && body !== null && typeof (body as { message?: unknown }).message === "string"
      ? (body as { message: string }).message
      : `HTTP ${status}`;
  const code: StatsErrorCode =
    status === 404 ? "not_found" : status === 400 ? "bad_request" : status === 401 ? "unauthorized" : "server";
  return new StatsError(code, message);
}
