import { NonDeterminismError } from "../errors.ts";
import { journalError } from "../journal.ts";
import type { Journal, JournalEntry, JournaledError } from "../journal.ts";

const CUT_OFF: JournaledError = { name: "HaltedError", message: "halted before the call returned" };

/**
 * Journaling: where a coroutine's `call`s meet the run's Journal. The trampoline (coroutine.ts)
 * asks these three questions and never builds, appends or reads an entry itself.
 *
 * - Record: `begin()` journals a call as cut off (`halted`) before its function runs, and
 *   `settle()` replaces that entry with the outcome once the coroutine consumes it. A call that
 *   never settles (its coroutine was halted by a timeout or its parent, or interrupted by a
 *   crashing child) therefore needs no journal write when it is cancelled: it stays journaled as
 *   cut off, which is what replay reproduces.
 * - Replay: `replay()` returns the recorded entry (no I/O), or the divergence, which it also
 *   keeps as `journal.divergence` (the first one).
 */
export class Journaling {
  readonly journal: Journal;
  readonly replaying: boolean;

  constructor(journal: Journal, replaying: boolean) {
    this.journal = journal;
    this.replaying = replaying;
  }

  /** Replay: the entry recorded for `call` at (coroutine, step), or the NonDeterminismError. */
  replay(coroutine: string, step: number, call: string): JournalEntry | NonDeterminismError {
    const entry = this.journal.consume(coroutine, step);
    if (entry !== undefined && entry.call === call) return entry;
    const error = new NonDeterminismError(coroutine, step, call, entry === undefined ? null : entry.call);
    if (this.journal.divergence === null) this.journal.divergence = error;
    return error;
  }

  /**
   * Record: journals `call` at (coroutine, step) as cut off and returns its position for
   * `settle()`, or -1 when that step is already journaled (two coroutines sharing a name).
   */
  begin(coroutine: string, step: number, call: string): number {
    const journal = this.journal;
    return journal.append({ coroutine, step, call, ok: false, halted: true, error: CUT_OFF })
      ? journal.entries.length - 1
      : -1;
  }

  /** Record: the call at `position` returned `value` (ok) or threw it. */
  settle(position: number, ok: boolean, value: unknown): void {
    const { coroutine, step, call } = this.journal.entries[position];
    this.journal.replace(
      position,
      ok ? { coroutine, step, call, ok, value } : { coroutine, step, call, ok, error: journalError(value) },
    );
  }
}
