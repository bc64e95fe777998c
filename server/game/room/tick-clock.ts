/**
 * The game process's one tick clock: a single timer at the tick rate on which every room's
 * clock runs, instead of a timer per room. Rooms tick in the same event-loop turn, so the rounds
 * that start on one tick start together: their stats fetches leave in shared RPC batches and
 * their journal records share one commit (journal/round-journal.ts commits once per turn).
 *
 * Ticks are due on a fixed grid (`origin` + k x period); a room aligns its own fixed timestep to
 * the grid half a period early (`alignedStart`), so a tick that fires a little late still counts
 * as one, and one late by more than a period counts the ticks it missed (the room catches up).
 */
export class TickClock {
  readonly periodMs: number;
  /** performance.now() of the grid's tick 0 */
  private readonly origin = performance.now();
  private readonly subscribers = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  /** the grid index of the last tick run */
  private index = 0;

  constructor(tickHz: number) {
    this.periodMs = 1000 / tickHz;
  }

  /**
   * Runs `onTick` on every tick until the returned function is called (the clock runs while
   * anyone listens). `onTick` must not throw: a room catches its own errors (arena-room.ts).
   */
  subscribe(onTick: () => void): () => void {
    this.subscribers.add(onTick);
    if (this.timer === null) this.schedule();
    return () => {
      this.subscribers.delete(onTick);
      if (this.subscribers.size > 0 || this.timer === null) return;
      clearTimeout(this.timer);
      this.timer = null;
    };
  }

  /**
   * The start of a fixed timestep that has run `ticksDone` ticks and runs its next one on the
   * grid's next tick: `floor((now - start) / period) - ticksDone` is 1 from that tick until half
   * a period after it.
   */
  alignedStart(ticksDone: number, now = performance.now()): number {
    const next = Math.ceil((now - this.origin) / this.periodMs);
    return this.origin + (next - 1 - ticksDone) * this.periodMs - this.periodMs / 2;
  }

  /**
   * A timeout to the grid's next tick, not an interval: an interval drifts later by its own
   * lateness every period. A loop blocked past several ticks skips them here (the rooms count
   * what they missed from the wall clock).
   */
  private schedule(): void {
    const now = performance.now();
    this.index = Math.max(this.index + 1, Math.ceil((now - this.origin) / this.periodMs));
    const delay = Math.max(1, Math.ceil(this.origin + this.index * this.periodMs - now));
    this.timer = setTimeout(() => {
      this.schedule();
      for (const onTick of this.subscribers) onTick();
    }, delay).unref();
  }
}
