import { NonDeterminismError } from "./errors.ts";

/** An error as plain data: what the journal keeps of a failed call. */
export interface JournaledError {
  name: string;
  message: string;
  code?: string | number;
}

/**
 * One consumed call result. `step` counts the journaled effects of one coroutine from 0, so
 * `(coroutine, step)` identifies an entry whatever order concurrent coroutines finished in.
 * `halted` marks a call that was cut off (its coroutine was halted, e.g. by a timeout) before a
 * result arrived; replay parks the coroutine there until it is halted again.
 */
export type JournalEntry =
  | { coroutine: string; step: number; call: string; ok: true; value: unknown }
  | { coroutine: string; step: number; call: string; ok: false; error: JournaledError; halted?: true };

/**
 * Journal: the record of every `call()` result, as plain data (serialisable with msgpackr or
 * JSON as long as call results are plain data).
 *
 * Record mode (`run(body, { journal })`): every call is appended when it starts, as cut off
 * (`halted`), and that entry becomes its result, value or error, when the coroutine consumes it;
 * entries are in call start order. Replay mode (`run(body, { journal, replay: true })`): calls do
 * no I/O and get the journaled result; a call whose name differs from the entry at that step, or
 * with no entry, stops the run with `NonDeterminismError` (kept in `divergence`).
 *
 * Errors: recording the same (coroutine, step) twice (two coroutines with one name) throws a
 * TypeError into the second coroutine. Replayed errors are plain `Error`s with the recorded
 * name, message and code.
 *
 * @example
 * ```ts
 * const journal = new Journal();
 * await run(round, { name: "round-1", journal });
 * const copy = Journal.from(structuredClone(journal.entries));
 * await run(round, { name: "round-1", journal: copy, replay: true }); // same results, no I/O
 * ```
 */
export class Journal {
  readonly entries: JournalEntry[];
  /** The first divergence found while replaying, if any. */
  divergence: NonDeterminismError | null = null;
  private index: Map<string, JournalEntry> | null = null;
  private used: Set<JournalEntry> | null = null;

  constructor(entries: JournalEntry[] = []) {
    this.entries = entries;
  }

  /**
   * Builds a journal from plain entries (e.g. decoded from disk), validating their shape.
   * @param entries an array of entries, or an object with an `entries` array (a `toJSON()`)
   * @throws TypeError naming the first entry that is not a journal entry
   */
  static from(entries: readonly unknown[] | { entries: readonly unknown[] }): Journal {
    const list = Array.isArray(entries) ? entries : (entries as { entries: readonly unknown[] }).entries;
    if (!Array.isArray(list)) throw new TypeError("Journal.from: expected an array of entries");
    const copy: JournalEntry[] = [];
    for (let i = 0; i < list.length; i++) {
      const e = list[i] as Record<string, unknown> | null;
      if (
        e === null ||
        typeof e !== "object" ||
        typeof e.coroutine !== "string" ||
        !Number.isInteger(e.step) ||
        typeof e.call !== "string" ||
        typeof e.ok !== "boolean" ||
        (e.ok === false && (typeof e.error !== "object" || e.error === null))
      ) {
        throw new TypeError(`Journal.from: entry ${i} is not a journal entry`);
      }
      copy.push(e as unknown as JournalEntry);
    }
    return new Journal(copy);
  }

  /** The entry of `coroutine` at `step`, or undefined. */
  lookup(coroutine: string, step: number): JournalEntry | undefined {
    return this.indexed().get(key(coroutine, step));
  }

  /** Like lookup, and marks the entry as replayed (see `unconsumed`). Used by the runtime. */
  consume(coroutine: string, step: number): JournalEntry | undefined {
    const entry = this.lookup(coroutine, step);
    if (entry !== undefined) (this.used ??= new Set()).add(entry);
    return entry;
  }

  /**
   * Entries a replay never asked for. After a replay that finished without a divergence, a
   * non-empty list means the replayed code made fewer calls than the recorded one did, which is
   * non-determinism too (the runtime cannot tell when a run is "done" with a shared journal).
   */
  unconsumed(): JournalEntry[] {
    const used = this.used;
    return used === null ? [...this.entries] : this.entries.filter((e) => !used.has(e));
  }

  /**
   * Appends an entry.
   * @returns false (and appends nothing) when that (coroutine, step) is already recorded
   */
  append(entry: JournalEntry): boolean {
    const index = this.indexed();
    const k = key(entry.coroutine, entry.step);
    if (index.has(k)) return false;
    index.set(k, entry);
    this.entries.push(entry);
    return true;
  }

  /** Replaces the entry at `position` with one for the same (coroutine, step). Used by the runtime. */
  replace(position: number, entry: JournalEntry): void {
    this.entries[position] = entry;
    this.indexed().set(key(entry.coroutine, entry.step), entry);
  }

  toJSON(): JournalEntry[] {
    return this.entries;
  }

  private indexed(): Map<string, JournalEntry> {
    if (this.index === null) {
      this.index = new Map();
      for (const e of this.entries) this.index.set(key(e.coroutine, e.step), e);
    }
    return this.index;
  }
}

function key(coroutine: string, step: number): string {
  return `${coroutine}\u0000${step}`;
}

/** An error as plain data (name, message, and a string/number `code` when present). */
export function journalError(error: unknown): JournaledError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const out: JournaledError = { name: error.name, message: error.message };
    if (typeof code === "string" || typeof code === "number") out.code = code;
    return out;
  }
  return { name: "Error", message: String(error) };
}

/** The error a replayed failed call throws. */
export function replayedError(error: JournaledError): Error {
  const e = new Error(error.message) as Error & { code?: string | number };
  e.name = error.name;
  if (error.code !== undefined) e.code = error.code;
  return e;
}
