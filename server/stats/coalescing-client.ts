// The transport-independent half of the stats client: coalescing of concurrent gets of one id,
// per-get deadlines and AbortSignals, batching of the gets of one event-loop turn, the
// last-known-good cache and the counters. A Transport (RPC or HTTP) only moves Calls on the wire.
import { isValidStatsId, type PlayerStats } from "../../shared/stats.ts";
import { StatsError } from "./errors.ts";
import { Lru } from "./lru.ts";

/** One id on the wire, shared by every concurrent get of that id. */
export class Call {
  readonly id: string;
  waiters: Waiter[] = [];
  /** settled, or abandoned by all its waiters: late answers for it are ignored */
  done = false;
  /** the transport's handle for this call (RPC frame, HTTP AbortController) */
  wire: unknown = undefined;
  constructor(id: string) {
    this.id = id;
  }
}

/** One caller's get: its own deadline and signal, riding on a shared Call. */
class Waiter {
  readonly call: Call;
  readonly resolve: (s: PlayerStats) => void;
  readonly reject: (e: StatsError) => void;
  readonly deadlineAt: number;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined = undefined;
  constructor(
    call: Call,
    resolve: (s: PlayerStats) => void,
    reject: (e: StatsError) => void,
    deadlineAt: number,
    signal: AbortSignal | undefined,
  ) {
    this.call = call;
    this.resolve = resolve;
    this.reject = reject;
    this.deadlineAt = deadlineAt;
    this.signal = signal;
  }
}

export interface ClientCounters {
  requests: number; // get() calls
  wireRequests: number; // ids sent on the wire (after coalescing)
  frames: number; // RPC frames / HTTP requests sent
  batches: number; // RPC batch frames sent
  coalesced: number; // gets that joined an in-flight call for the same id
  ok: number;
  errors: number; // gets rejected, any code (the codes below are broken out)
  timeouts: number;
  aborted: number;
  unavailable: number;
  serverErrors: number;
  cancelledCalls: number; // calls abandoned by all their waiters before an answer
  lateReplies: number; // answers for abandoned calls, ignored
  reconnects: number;
  disconnects: number;
  failovers: number; // calls sent again to another replica after theirs became unreachable
  protocolErrors: number; // frames from the service that did not parse
  cacheHits: number; // lastKnownGood() found an entry
  cacheMisses: number;
}

function newCounters(): ClientCounters {
  return {
    requests: 0,
    wireRequests: 0,
    frames: 0,
    batches: 0,
    coalesced: 0,
    ok: 0,
    errors: 0,
    timeouts: 0,
    aborted: 0,
    unavailable: 0,
    serverErrors: 0,
    cancelledCalls: 0,
    lateReplies: 0,
    reconnects: 0,
    disconnects: 0,
    failovers: 0,
    protocolErrors: 0,
    cacheHits: 0,
    cacheMisses: 0,
  };
}

/** What the core gives a transport: where to deliver answers, and the shared counters. */
export interface CallSink {
  settle(call: Call, result: PlayerStats | StatsError): void;
  readonly tally: ClientCounters;
}

export interface Transport {
  /** true while the service is known to be unreachable: gets fail fast with 'unavailable' */
  readonly down: boolean;
  /** the error to fail fast with while down */
  downError(): StatsError;
  send(calls: Call[]): void;
  /** every waiter of `call` left before an answer: free what the transport holds for it (if anything) */
  forget(call: Call): void;
  close(): Promise<void>;
}

/** Receives the client's structured log records (connection lost/back, protocol errors). */
export type ClientLog = (record: { level: "info" | "warn" | "error"; msg: string; [k: string]: unknown }) => void;

/** What both transports are built with, defaults already applied (createStatsClient). */
export interface TransportOptions {
  /** the service token as both transports send it: `Authorization: Bearer <token>` (built once, createStatsClient) */
  authHeaders: Readonly<Record<string, string>>;
  /** reconnect backoff (RPC) / breaker (HTTP) bounds, ms */
  backoffMinMs: number;
  backoffMaxMs: number;
  log: ClientLog;
}

export interface GetOptions {
  signal?: AbortSignal;
  deadlineMs?: number;
}

export interface StatsClient {
  get(id: string, opts?: GetOptions): Promise<PlayerStats>;
  lastKnownGood(id: string): PlayerStats | undefined;
  counters(): Record<string, number>;
  /**
   * Why gets cannot be served right now (the service is unreachable, refused the token, or its
   * last answer was an error), or null when the last word from it was good.
   */
  problem(): string | null;
  close(): Promise<void>;
}

export interface CoreOptions {
  deadlineMs: number;
  batch: boolean;
  lkgSize: number;
}

export class CoalescingClient implements StatsClient, CallSink {
  readonly tally: ClientCounters = newCounters();
  private transport: Transport | undefined;
  private readonly opts: CoreOptions;
  private readonly inflight = new Map<string, Call>();
  private readonly lkg: Lru<string, PlayerStats>;
  private readonly pending = new Set<Waiter>();
  private queue: Call[] = [];
  private flushScheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private closed = false;
  /** the last answer's failure, when it says the service itself is in trouble; cleared by a success */
  private lastFailure: StatsError | undefined = undefined;

  constructor(opts: CoreOptions) {
    this.opts = opts;
    this.lkg = new Lru(opts.lkgSize);
  }

  attach(transport: Transport): void {
    this.transport = transport;
  }

  get(id: string, opts?: GetOptions): Promise<PlayerStats> {
    const c = this.tally;
    c.requests++;
    const t = this.transport!;
    if (this.closed) return this.fail(new StatsError("unavailable", "stats client is closed"));
    if (!isValidStatsId(id))
      return this.fail(new StatsError("bad_request", `not a valid stats id: ${JSON.stringify(id)}`));
    const signal = opts?.signal;
    if (signal?.aborted) return this.fail(new StatsError("aborted", "aborted before the get started"));
    if (t.down) return this.fail(t.downError());
    const deadlineMs = opts?.deadlineMs ?? this.opts.deadlineMs;
    if (!(deadlineMs > 0)) return this.fail(new StatsError("timeout", `deadline ${deadlineMs} ms has already passed`));
    return new Promise<PlayerStats>((resolve, reject) => {
      let call = this.inflight.get(id);
      const fresh = call === undefined;
      if (call === undefined) {
        call = new Call(id);
        this.inflight.set(id, call);
      } else {
        c.coalesced++;
      }
      const w = new Waiter(call, resolve, reject, performance.now() + deadlineMs, signal);
      call.waiters.push(w);
      this.pending.add(w);
      if (w.deadlineAt < this.timerAt) this.arm(w.deadlineAt);
      if (signal) {
        w.onAbort = () => this.leave(w, new StatsError("aborted", "get aborted by its signal"));
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      if (fresh) this.enqueue(call);
    });
  }

  lastKnownGood(id: string): PlayerStats | undefined {
    const s = this.lkg.get(id);
    if (s === undefined) this.tally.cacheMisses++;
    else this.tally.cacheHits++;
    return s;
  }

  problem(): string | null {
    if (this.closed) return "stats client is closed";
    if (this.transport!.down) return this.transport!.downError().message;
    return this.lastFailure?.message ?? null;
  }

  counters(): Record<string, number> {
    return { ...this.tally, inFlight: this.pending.size, inFlightIds: this.inflight.size, lkgSize: this.lkg.size };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // every call not yet done is in `inflight` (queued ones included): settling those settles all
    for (const call of [...this.inflight.values()])
      this.settle(call, new StatsError("unavailable", "stats client closed"));
    this.queue = [];
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.transport?.close();
  }

  /** Delivers a call's answer to all its waiters (first answer wins; late ones are ignored). */
  settle(call: Call, result: PlayerStats | StatsError): void {
    if (call.done) {
      this.tally.lateReplies++;
      return;
    }
    call.done = true;
    if (this.inflight.get(call.id) === call) this.inflight.delete(call.id);
    const waiters = call.waiters;
    call.waiters = [];
    if (result instanceof StatsError) {
      if (result.code === "unavailable" || result.code === "unauthorized" || result.code === "server")
        this.lastFailure = result;
      for (const w of waiters) (this.finishWaiter(w), this.count(result), w.reject(result));
    } else {
      // one object is shared by every waiter of the call and by the last-known-good cache
      Object.freeze(result);
      this.lastFailure = undefined;
      this.lkg.set(call.id, result);
      this.tally.ok += waiters.length;
      for (const w of waiters) (this.finishWaiter(w), w.resolve(result));
    }
  }

  private fail(e: StatsError): Promise<never> {
    this.count(e);
    return Promise.reject(e);
  }

  private count(e: StatsError): void {
    const c = this.tally;
    c.errors++;
    if (e.code === "timeout") c.timeouts++;
    else if (e.code === "aborted") c.aborted++;
    else if (e.code === "unavailable") c.unavailable++;
    else if (e.code === "server") c.serverErrors++;
  }

  private finishWaiter(w: Waiter): void {
    this.pending.delete(w);
    if (w.signal) w.signal.removeEventListener("abort", w.onAbort!);
  }

  /** One waiter gives up (abort/deadline); the call is abandoned when it was the last one. */
  private leave(w: Waiter, e: StatsError): void {
    if (!this.pending.has(w)) return;
    this.finishWaiter(w);
    const call = w.call;
    const i = call.waiters.indexOf(w);
    if (i !== -1) call.waiters.splice(i, 1);
    if (call.waiters.length === 0 && !call.done) {
      call.done = true;
      this.tally.cancelledCalls++;
      if (this.inflight.get(call.id) === call) this.inflight.delete(call.id);
      this.transport!.forget(call);
    }
    this.count(e);
    w.reject(e);
  }

  private enqueue(call: Call): void {
    if (!this.opts.batch) {
      this.transport!.send([call]);
      return;
    }
    this.queue.push(call);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // setImmediate, not a microtask: gets issued from many promise continuations of one turn
      // (e.g. all entities of a round) still land in one batch frame.
      setImmediate(this.flush);
    }
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    const calls = this.queue;
    this.queue = [];
    const live = calls.filter((c) => !c.done);
    if (live.length > 0) this.transport!.send(live);
  };

  /** A single timer armed for the earliest deadline; each firing sweeps all pending waiters. */
  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.sweep, Math.max(0, at - performance.now()));
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const w of this.pending) {
      // within half a millisecond counts as due: timers fire with ms granularity
      if (w.deadlineAt <= now + 0.5)
        this.leave(w, new StatsError("timeout", `no answer for ${w.call.id} within the deadline`));
      else if (w.deadlineAt < next) next = w.deadlineAt;
    }
    if (next !== Infinity) this.arm(next);
  };
}
