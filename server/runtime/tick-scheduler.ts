import { compareCodePoints } from "./core/order.ts";

/** A coroutine suspended in `waitTicks()`; implemented by the runtime's task. */
export interface TickWaiter {
  /** Resumes the waiter if `entry` is still the wait it is suspended in. */
  tickDue(entry: TickEntry): void;
}

export interface TickEntry {
  readonly waiter: TickWaiter;
  /** Order key (the entity id), compared by code point. */
  readonly order: string;
  /** Spawn sequence of the waiting coroutine: breaks ties between equal order keys. */
  readonly seq: number;
  readonly due: number;
}

/**
 * TickScheduler: a logical clock owned by a room. `tick()` advances `current` by one and resumes
 * every coroutine whose `waitTicks(n)` / `nextTick()` falls due, synchronously, in a fixed order:
 * by order key (entity id, compared by Unicode code point), then by spawn sequence. Registration
 * order does not matter, so "wait 3 ticks, then act" is deterministic however coroutines re-wait.
 * No real timer is involved: tests and the game drive it by calling `tick()`.
 *
 * Errors: calling `tick()` from inside a resumed coroutine (re-entrantly) throws an Error; a
 * coroutine that waits without a scheduler in scope gets a TypeError. Cancellation: a halted
 * waiter is removed at once (`waiting` drops), so a removed entity never runs on a later tick.
 *
 * @example
 * ```ts
 * const ticks = new TickScheduler();
 * run(function* () { yield* waitTicks(3); console.log("acts at tick", ticks.current); }, { ticks });
 * ticks.tick(); ticks.tick(); ticks.tick(); // logs "acts at tick 3"
 * ```
 */
export class TickScheduler {
  private now = 0;
  private ticking = false;
  private count = 0;
  private buckets = new Map<number, Set<TickEntry>>();

  /** Ticks completed so far. */
  get current(): number {
    return this.now;
  }

  /** Number of coroutines currently waiting for a tick. */
  get waiting(): number {
    return this.count;
  }

  /**
   * Advances one tick and resumes the waiters due now, in (order key, spawn sequence) order.
   * @throws Error when called re-entrantly from a coroutine this tick resumed
   */
  tick(): void {
    if (this.ticking) throw new Error("TickScheduler.tick() called re-entrantly from a resumed coroutine");
    this.now++;
    const bucket = this.buckets.get(this.now);
    if (bucket === undefined) return;
    this.buckets.delete(this.now);
    this.count -= bucket.size;
    const due = Array.from(bucket);
    due.sort(compareEntries);
    this.ticking = true;
    try {
      // A waiter halted by an earlier one in this batch is skipped by tickDue itself.
      for (let i = 0; i < due.length; i++) due[i].waiter.tickDue(due[i]);
    } finally {
      this.ticking = false;
    }
  }

  /** Registers a wait of `n` (>= 1) ticks. Used by the runtime. */
  add(waiter: TickWaiter, order: string, seq: number, n: number): TickEntry {
    const entry: TickEntry = { waiter, order, seq, due: this.now + n };
    let bucket = this.buckets.get(entry.due);
    if (bucket === undefined) {
      bucket = new Set();
      this.buckets.set(entry.due, bucket);
    }
    bucket.add(entry);
    this.count++;
    return entry;
  }

  /** Removes a wait (its coroutine was halted or interrupted). Used by the runtime. */
  cancel(entry: TickEntry): void {
    const bucket = this.buckets.get(entry.due);
    if (bucket !== undefined && bucket.delete(entry)) {
      this.count--;
      if (bucket.size === 0) this.buckets.delete(entry.due);
    }
  }
}

function compareEntries(a: TickEntry, b: TickEntry): number {
  return compareCodePoints(a.order, b.order) || a.seq - b.seq;
}
