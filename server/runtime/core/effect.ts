/**
 * Effects are small plain descriptors that a coroutine hands to the runtime with `yield*`.
 *
 * Each effect is its own iterator, so `yield* effect` costs no extra generator: the first
 * `next()` yields the effect itself; when the runtime resumes the coroutine it marks the effect
 * it is resuming (`resuming`) and the following `next(value)` finishes the delegation with
 * `value`. The mark is global rather than per effect so that one effect object may be shared by
 * several coroutines (e.g. a module-level `nextTick()`) and re-yielded any number of times.
 */

/** Effect kinds. Numbers rather than strings keep the dispatch switch cheap. */
export const CALL = 1;
export const UNTIL = 2;
export const SPAWN = 3;
export const JOIN = 4;
export const GROUP = 5;
export const SLEEP = 6;
export const TICKS = 7;
export const SUSPEND = 8;

/** Group kinds for the GROUP effect. */
export const ALL = 1;
export const ALL_SETTLED = 2;
export const RACE = 3;
export const TIMEOUT = 4;

/**
 * The one iterator result every effect returns. `yield*` reads `done` and `value` as soon as
 * `next()` returns (and hands a not-done result straight to the runtime, which reads it at once),
 * so a shared mutable object is never observed stale; it saves an allocation per step, which
 * matters most with a hundred thousand coroutines in flight.
 */
const result: { done: boolean; value: any } = { done: false, value: undefined };

function done(value: unknown): IteratorResult<any, any> {
  result.done = true;
  result.value = value;
  return result as IteratorResult<any, any>;
}

let resuming: Effect | null = null;

/** Called by the runtime right before `iterator.next(value)` (see the file comment), and with null after. */
export function markResume(effect: Effect | null): void {
  resuming = effect;
  result.value = undefined; // the shared iterator result must not keep the last value alive
}

/**
 * The coroutine whose generator is executing, set by the runtime around each step. Effects
 * with an immediate result use it to complete inside `next()` without suspending the generator
 * at all (a spawn, joining a task that has already settled): half of a typical coroutine's
 * effects then cost no generator round trip.
 */
export interface Executing {
  readonly name: string;
  spawnNow(body: unknown, options: unknown): unknown;
}
/** A task joined by a JOIN effect. `joinNow` returns its value or throws its error once settled. */
export interface Joinable {
  readonly status: number;
  joinNow(): unknown;
}
let executing: Executing | null = null;

/** Sets the executing coroutine; returns the previous one (steps nest when a spawn starts a child). */
export function setExecuting(coroutine: Executing | null): Executing | null {
  const previous = executing;
  executing = coroutine;
  return previous;
}

export class Effect<T = unknown> implements Iterator<Effect, T, any> {
  kind: number;
  a: any;
  b: any;
  c: any;
  /** The coroutine this effect was last yielded by and not yet resumed (detects misuse). */
  private waiting: Executing | null = null;

  constructor(kind: number, a: unknown, b: unknown, c: unknown) {
    this.kind = kind;
    this.a = a;
    this.b = b;
    this.c = c;
  }

  [Symbol.iterator](): Iterator<Effect, T, any> {
    return this;
  }

  next(value?: any): IteratorResult<Effect, T> {
    if (resuming === this) {
      resuming = null;
      this.waiting = null;
      return done(value);
    }
    const by = executing;
    // Iterated by something other than `yield*` in a coroutine (spread, Array.from, a deep-equal
    // or pretty-printer walking a Task): fail loudly rather than yield this effect forever.
    if (by === null) {
      throw new TypeError(`${describeEffect(this)} was iterated outside a coroutine: consume effects and tasks with yield* inside run(), or await a task`);
    }
    if (this.waiting === by) {
      this.waiting = null;
      throw new TypeError(`coroutine "${by.name}": ${describeEffect(this)} was iterated again before the runtime resumed it: consume effects and tasks only with yield*`);
    }
    if (this.kind === SPAWN) return done(by.spawnNow(this.a, this.b));
    if (this.kind === JOIN) {
      const target = this.a as Joinable;
      if (target.status !== 0) return done(target.joinNow());
    }
    this.waiting = by;
    result.done = false;
    result.value = this;
    return result as IteratorResult<Effect, T>;
  }

  throw(error: unknown): IteratorResult<Effect, T> {
    resuming = null;
    this.waiting = null;
    throw error;
  }

  return(value?: any): IteratorResult<Effect, T> {
    resuming = null;
    this.waiting = null;
    return done(value);
  }
}

/** A human-readable name of an effect kind, for error messages. */
export function describeEffect(effect: Effect): string {
  switch (effect.kind) {
    case CALL: return `call(${JSON.stringify(effect.a)})`;
    case UNTIL: return "until()";
    case SPAWN: return "spawn()";
    case JOIN: return "join";
    case GROUP: return ["", "all()", "allSettled()", "race()", "timeout()"][effect.a] ?? "group";
    case SLEEP: return "sleep()";
    case TICKS: return "waitTicks()";
    case SUSPEND: return "suspend()";
    default: return `effect#${effect.kind}`;
  }
}
