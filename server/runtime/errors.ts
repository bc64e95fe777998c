/**
 * Errors raised by the runtime itself. All carry the name of the coroutine they concern.
 *
 * - `TimeoutError`: thrown by `timeout(ms, op)` at the caller after `op` has been halted.
 * - `HaltedError`: what joining (or awaiting) a halted task throws; a halted `all()` child
 *   counts as failed with it, an `allSettled()` child reports it.
 * - `NonDeterminismError`: replay asked for a different call than the journal holds. It is not
 *   thrown into the coroutine (a catch-all there must not hide it): the whole run is halted and
 *   fails with it, and `journal.divergence` keeps the first one.
 *
 * @example
 * ```ts
 * try { yield* timeout(50, sleep(1000)); } catch (e) { if (e instanceof TimeoutError) ... }
 * ```
 */
export class TimeoutError extends Error {
  readonly coroutine: string;
  readonly ms: number;
  constructor(coroutine: string, ms: number) {
    super(`coroutine "${coroutine}": timed out after ${ms} ms`);
    this.name = "TimeoutError";
    this.coroutine = coroutine;
    this.ms = ms;
  }
}

export class HaltedError extends Error {
  readonly coroutine: string;
  constructor(coroutine: string) {
    super(`coroutine "${coroutine}" was halted`);
    this.name = "HaltedError";
    this.coroutine = coroutine;
  }
}

export class NonDeterminismError extends Error {
  readonly coroutine: string;
  readonly step: number;
  /** The call name the journal holds at this step, or null when it holds none. */
  readonly recorded: string | null;
  /** The call name the coroutine asked for. */
  readonly requested: string;
  constructor(coroutine: string, step: number, requested: string, recorded: string | null) {
    super(
      recorded === null
        ? `non-determinism in coroutine "${coroutine}" at step ${step}: it called "${requested}" but the journal has no entry there`
        : `non-determinism in coroutine "${coroutine}" at step ${step}: it called "${requested}" but the journal recorded "${recorded}"`,
    );
    this.name = "NonDeterminismError";
    this.coroutine = coroutine;
    this.step = step;
    this.recorded = recorded;
    this.requested = requested;
  }
}

/** A TypeError for API misuse, always naming the coroutine (the runtime never hangs on bad input). */
export function misuse(coroutine: string, message: string): TypeError {
  return new TypeError(`coroutine "${coroutine}": ${message}`);
}

/** Short description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object" || typeof value === "function") {
    if (typeof (value as { then?: unknown }).then === "function") return "a promise";
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return ctor ? `a ${ctor}` : "an object";
  }
  return `${typeof value} ${String(value)}`;
}
