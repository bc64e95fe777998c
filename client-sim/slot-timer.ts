/**
 * Timers for many bots at once: a callback runs at the end of the slot (SLOT_MS of wall clock)
 * in which its delay ends, together with every other callback due in that slot, under one Node
 * timer. A thousand bots sending one intent per round each on its own timer wake the process a
 * thousand times per round; on slots it wakes at most once per slot, and each wake-up (epoll,
 * the timer machinery, a context switch) is a large part of what a thin bot costs (bench:loadgen).
 * A delay is therefore late by up to one slot, far below a bot's think time (a fifth of a round).
 *
 * Callbacks must not throw (the bot catches its scenario's exceptions): one that did would
 * skip the rest of its slot. Nothing is cancelled: a callback that no longer applies returns.
 */
const SLOT_MS = 10;

export class SlotTimer {
  private readonly due = new Map<number, (() => void)[]>();

  /** Runs `fn` once `ms` have passed, at the end of that moment's slot. */
  after(ms: number, fn: () => void): void {
    const slot = Math.ceil((performance.now() + ms) / SLOT_MS);
    let list = this.due.get(slot);
    if (list === undefined) {
      this.due.set(slot, (list = []));
      setTimeout(() => this.run(slot), slot * SLOT_MS - performance.now());
    }
    list.push(fn);
  }

  private run(slot: number): void {
    // Node measures a timer from the loop's cached clock, which lags by however long the current
    // loop iteration has run: a timer set late in a busy iteration fires that much early
    const early = slot * SLOT_MS - performance.now();
    if (early > 0) {
      setTimeout(() => this.run(slot), early);
      return;
    }
    const list = this.due.get(slot)!;
    this.due.delete(slot);
    for (const fn of list) fn();
  }
}

/** The process's slots, shared by all its bots. */
export const slotTimer = new SlotTimer();
