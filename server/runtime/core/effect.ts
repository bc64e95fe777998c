/**
 * Effects are small plain descriptors that a coroutine hands to the runtime with `yield*`.
 *
 * Each effect is its own iterator, so `yield* effect` costs no extra generator: the first
 * `next()` yields the effect itself; when the runtime resumes the coroutine it marks the effect
 * it is resuming (`resuming`) and the following `next(value)` finishes the delegation with
 * `value`. A task is its own iterator the same way (`joinNext`): `yield* task` joins it. The mark
 * is global rather than per effect so that one effect object may be shared by several coroutines
 * (e.g. a module-level `nextTick()`) and re-yielded any number of times.
 */

/** Effect kinds. Numbers rather than strings keep the dispatch switch cheap. */
export const CALL = 1;
export const UNTIL = 2;
export const SPAWN = 3;
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
 * The one iterator result every effect (and task) returns. `yield*` reads `done` and `value` as
 * soon as `next()` returns (and hands a not-done result straight to the runtime, which reads it
 * at once), so a shared mutable object is never observed stale; it saves an allocation per step,
 * which matters most with a hundred thousand coroutines in flight.
 */
const result: { done: boolean; value: any } = { done: false, value: undefined };

function done(value: unknown): IteratorResult<any, any> {
  result.done = true;
  result.value = value;
  return result as IteratorResult<any, any>;
}

function yielding(it: object): IteratorResult<any, any> {
  result.done = false;
  result.value = it;
  return result as IteratorResult<any, any>;
}

let resuming: object | null = null;

/**
 * What a `next()` just handed out and by which coroutine, until the runtime takes it: a second
 * `next()` in between means something other than `yield*` is iterating (misuse).
 */
let handedOut: object | null = null;
let handedBy: Executing | null = null;

/** Called by the runtime right before `iterator.next(value)` (see the file comment). */
export function markResume(effect: object | null): void {
  resuming = effect;
  handedOut = null;
  handedBy = null;
}

/**
 * Called by the runtime once a step has returned: returns what a `next()` handed out in it (to
 * tell a task joined with `yield*` from one yielded plainly) and clears the marks, so that the
 * shared iterator result keeps nothing alive.
 */
export function takeHandedOut(): object | null {
  const it = handedOut;
  resuming = null;
  handedOut = null;
  handedBy = null;
  result.value = undefined;
  return it;
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
/** A task, which is its own join iterator. `joinNow` returns its value or throws its error once settled. */
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

/** The coroutine a first `next()` of `it` hands it to, or a TypeError for iteration outside `yield*`. */
function iteratingCoroutine(it: object): Executing {
  const by = executing;
  // Iterated by something other than `yield*` in a coroutine (spread, Array.from, a deep-equal
  // or pretty-printer walking a Task): fail loudly rather than yield this effect forever.
  if (by === null) {
    throw new TypeError(`${describe(it)} was iterated outside a coroutine: consume effects and tasks with yield* inside run(), or await a task`);
  }
  if (handedOut === it && handedBy === by) {
    handedOut = null;
    handedBy = null;
    throw new TypeError(`coroutine "${by.name}": ${describe(it)} was iterated again before the runtime resumed it: consume effects and tasks only with yield*`);
  }
  return by;
}

/** `next()` of a task: `yield* task` joins it (completing at once when it has settled). */
export function joinNext(task: Joinable, value: unknown): IteratorResult<any, any> {
  if (resuming === task) {
    resuming = null;
    return done(value);
  }
  const by = iteratingCoroutine(task);
  if (task.status !== 0) return done(task.joinNow());
  handedOut = task;
  handedBy = by;
  return yielding(task);
}

/** `throw()` of an effect or task: the runtime throws into a coroutine suspended on it. */
export function iteratorThrow(error: unknown): never {
  resuming = null;
  throw error;
}

/** `return()` of an effect or task: the runtime closes a coroutine suspended on it. */
export function iteratorReturn(value: unknown): IteratorResult<any, any> {
  resuming = null;
  return done(value);
}

export class Effect<T = unknown> implements Iterator<Effect, T, any> {
  kind: number;
  a: any;
  b: any;
  c: any;

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
      return done(value);
    }
    const by = iteratingCoroutine(this);
    if (this.kind === SPAWN) return done(by.spawnNow(this.a, this.b));
    handedOut = this;
    handedBy = by;
    return yielding(this);
  }

  throw(error: unknown): IteratorResult<Effect, T> {
    return iteratorThrow(error);
  }

  return(value?: any): IteratorResult<Effect, T> {
    return iteratorReturn(value);
  }
}

function describe(it: object): string {
  return it instanceof Effect ? describeEffect(it) : "join";
}

/** A human-readable name of an effect kind, for error messages. */
export function describeEffect(effect: Effect): string {
  switch (effect.kind) {
    case CALL: return `call(${JSON.stringify(effect.a)})`;
    case UNTIL: return "until()";
    case SPAWN: return "spawn()";
    case GROUP: return ["", "all()", "allSettled()", "race()", "timeout()"][effect.a] ?? "group";
    case SLEEP: return "sleep()";
    case TICKS: return "waitTicks()";
    case SUSPEND: return "suspend()";
    default: return `effect#${effect.kind}`;
  }
}
