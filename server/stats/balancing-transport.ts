// Transport over several stats replicas (STATS_URL = "ws://a/rpc,ws://b/rpc"): stateless replicas
// over one database are interchangeable, so each batch goes to the healthy replica with the fewest
// ids in flight (ties rotate). A large batch is split into chunks of at least MIN_CHUNK ids over
// the healthy replicas, so that they answer it in parallel; each chunk is still one batch frame.
// Coalescing, deadlines and batching stay in the core (CoalescingClient) above.
//
// Failover: a call a replica could not answer because it is unreachable (connection lost mid-call,
// refused, store not open yet: code `unavailable`) is sent again to another healthy replica, at most
// once per replica, inside the get's own deadline; the calls a dropped connection fails together
// are sent again together (one microtask later), as batches. Other errors (a store failure, a bad id)
// are answers: every replica shares the database, so asking another one would not help.
// A replica that is down is skipped until its own transport has reconnected (backoff in there).
import type { PlayerStats } from "../../shared/stats.ts";
import type { Call, CallSink, Transport } from "./coalescing-client.ts";
import { StatsError } from "./errors.ts";

/** A batch is split over replicas only into chunks this large (smaller ones cost more frames than they save). */
const MIN_CHUNK = 32;

interface Replica {
  transport: Transport;
  inFlight: number;
}

interface Retry {
  call: Call;
  tried: number;
  error: StatsError;
}

interface Assignment {
  replica: Replica;
  /** replicas this call was sent to, the current one included */
  tried: number;
}

export class BalancingTransport implements Transport {
  private readonly sink: CallSink;
  private readonly replicas: Replica[];
  private readonly assigned = new Map<Call, Assignment>();
  private rotate = 0;
  /** calls to send again, by the replica that could not answer them */
  private retries = new Map<Replica, Retry[]>();

  /** `connect(sink)` builds one replica's transport around the sink it must answer into. */
  constructor(sink: CallSink, connects: ((sink: CallSink) => Transport)[]) {
    this.sink = sink;
    this.replicas = connects.map((connect) => {
      const replica = { inFlight: 0 } as Replica;
      replica.transport = connect({
        tally: sink.tally,
        settle: (call, result) => this.answered(replica, call, result),
      });
      return replica;
    });
  }

  get down(): boolean {
    return this.replicas.every((r) => r.transport.down);
  }

  downError(): StatsError {
    const e = this.replicas[0].transport.downError();
    return this.replicas.length === 1
      ? e
      : new StatsError(e.code, `all ${this.replicas.length} stats replicas unavailable; first: ${e.message}`);
  }

  send(calls: Call[]): void {
    const healthy = this.replicas.filter((r) => !r.transport.down);
    if (healthy.length === 0) {
      for (const call of calls) this.sink.settle(call, this.downError());
      return;
    }
    this.spread(healthy, calls, 1);
  }

  forget(call: Call): void {
    const a = this.assigned.get(call);
    if (a === undefined) return;
    this.assigned.delete(call);
    a.replica.inFlight--;
    a.replica.transport.forget(call);
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.transport.close()));
  }

  /** Chunks of at least MIN_CHUNK calls, each to the least busy of `to`. */
  private spread(to: Replica[], calls: Call[], tried: number): void {
    const chunks = Math.max(1, Math.min(to.length, Math.floor(calls.length / MIN_CHUNK)));
    const size = Math.ceil(calls.length / chunks);
    for (let at = 0; at < calls.length; at += size) {
      this.dispatch(this.leastBusy(to), chunks === 1 ? calls : calls.slice(at, at + size), tried);
    }
  }

  private dispatch(replica: Replica, calls: Call[], tried: number): void {
    for (const call of calls) this.assigned.set(call, { replica, tried });
    replica.inFlight += calls.length;
    replica.transport.send(calls);
  }

  private leastBusy(candidates: Replica[]): Replica {
    const n = candidates.length;
    const start = this.rotate++ % n;
    let best = candidates[start];
    for (let i = 1; i < n; i++) {
      const r = candidates[(start + i) % n];
      if (r.inFlight < best.inFlight) best = r;
    }
    return best;
  }

  /** A replica's answer for `call`: passed up, or (unreachable) sent again to another replica. */
  private answered(replica: Replica, call: Call, result: PlayerStats | StatsError): void {
    const a = this.assigned.get(call);
    if (a !== undefined && a.replica === replica) {
      this.assigned.delete(call);
      replica.inFlight--;
      if (
        result instanceof StatsError &&
        result.code === "unavailable" &&
        !call.done &&
        a.tried < this.replicas.length
      ) {
        if (this.retries.size === 0) queueMicrotask(this.retry);
        let list = this.retries.get(replica);
        if (list === undefined) this.retries.set(replica, (list = []));
        list.push({ call, tried: a.tried, error: result });
        return;
      }
    }
    this.sink.settle(call, result);
  }

  private readonly retry = (): void => {
    const retries = this.retries;
    this.retries = new Map();
    for (const [failed, list] of retries) {
      const others = this.replicas.filter((r) => r !== failed && !r.transport.down);
      const byTried = new Map<number, Call[]>();
      for (const { call, tried, error } of list) {
        if (call.done) continue; // abandoned meanwhile
        if (others.length === 0) {
          this.sink.settle(call, error);
          continue;
        }
        let calls = byTried.get(tried + 1);
        if (calls === undefined) byTried.set(tried + 1, (calls = []));
        calls.push(call);
      }
      for (const [tried, calls] of byTried) {
        this.sink.tally.failovers += calls.length;
        this.spread(others, calls, tried);
      }
    }
  };
}
