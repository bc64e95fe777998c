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

import { describeValue } from "../errors.ts";

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
  spawnNow(effect: SpawnEffect): unknown;
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
    throw new TypeError(
      `${describe(it)} was iterated outside a coroutine: consume effects and tasks with yield* inside run(), or await a task`,
    );
  }
  if (handedOut === it && handedBy === by) {
    handedOut = null;
    handedBy = null;
    throw new TypeError(
      `coroutine "${by.name}": ${describe(it)} was iterated again before the runtime resumed it: consume effects and tasks only with yield*`,
    );
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

/**
 * The base of every effect: the iterator protocol (see the file comment). `kind` is what the
 * trampoline dispatches on; the fields each kind carries are named on its own class below.
 */
export class Effect<T = unknown> implements Iterator<Effect, T, any> {
  readonly kind: number;

  constructor(kind: number) {
    this.kind = kind;
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

// ---- the effects, each with the check of its arguments ----------------------------------------
// A check returns what is wrong (the trampoline throws it into the coroutine as a TypeError naming
// the coroutine, where `yield*` can catch it), or null. Checks run when the effect is yielded, not
// when it is built, so an effect built outside any coroutine still reports the one that used it.

function isMs(ms: unknown): boolean {
  return typeof ms === "number" && ms >= 0 && ms <= 0x7fffffff;
}

/** `call(name, fn)`: I/O, journaled by `name`. */
export class CallEffect<T = unknown> extends Effect<T> {
  readonly name: string;
  readonly fn: (signal: AbortSignal) => unknown;
  constructor(name: string, fn: (signal: AbortSignal) => unknown) {
    super(CALL);
    this.name = name;
    this.fn = fn;
  }
}

export function checkCall(e: CallEffect): string | null {
  return typeof e.name === "string" && typeof e.fn === "function"
    ? null
    : `call(name, fn) expects a string and a function, got ${describeValue(e.name)} and ${describeValue(e.fn)}`;
}

/** `until(promise)`: waits for a promise that already exists. */
export class UntilEffect<T = unknown> extends Effect<T> {
  readonly promise: PromiseLike<T>;
  constructor(promise: PromiseLike<T>) {
    super(UNTIL);
    this.promise = promise;
  }
}

export function checkUntil(e: UntilEffect): string | null {
  return isThenable(e.promise) ? null : `until() expects a promise, got ${describeValue(e.promise)}`;
}

/** `spawn(body, options)`: completes inside `next()` (see `Executing.spawnNow`). */
export class SpawnEffect<T = unknown> extends Effect<T> {
  readonly body: () => unknown;
  readonly options: { name?: string; order?: string } | undefined;
  constructor(body: () => unknown, options: { name?: string; order?: string } | undefined) {
    super(SPAWN);
    this.body = body;
    this.options = options;
  }

  override next(value?: any): IteratorResult<Effect, T> {
    if (resuming === this) {
      resuming = null;
      return done(value);
    }
    return done(iteratingCoroutine(this).spawnNow(this));
  }
}

export function checkSpawn(e: SpawnEffect): string | null {
  return typeof e.body === "function"
    ? null
    : `spawn() expects a function returning an operation, got ${describeValue(e.body)}`;
}

/** `all` / `allSettled` / `race` / `timeout`: children run by a Group (group.ts). */
export class GroupEffect<T = unknown> extends Effect<T> {
  /** ALL, ALL_SETTLED, RACE or TIMEOUT */
  readonly group: number;
  readonly ops: readonly unknown[];
  /** TIMEOUT's deadline; 0 for the others */
  readonly ms: number;
  constructor(group: number, ops: readonly unknown[], ms: number) {
    super(GROUP);
    this.group = group;
    this.ops = ops;
    this.ms = ms;
  }
}

export function checkGroup(e: GroupEffect): string | null {
  if (!Array.isArray(e.ops)) return `${describeEffect(e)} expects an array of operations, got ${describeValue(e.ops)}`;
  if (e.group === RACE && e.ops.length === 0) return "race() of no operations would never settle";
  if (e.group === TIMEOUT && !isMs(e.ms))
    return `timeout(ms, op) expects ms between 0 and 2^31-1, got ${describeValue(e.ms)}`;
  return null;
}

/** `sleep(ms)`: real time. */
export class SleepEffect extends Effect<void> {
  readonly ms: number;
  constructor(ms: number) {
    super(SLEEP);
    this.ms = ms;
  }
}

export function checkSleep(e: SleepEffect): string | null {
  return isMs(e.ms) ? null : `sleep(ms) expects ms between 0 and 2^31-1, got ${describeValue(e.ms)}`;
}

/** `waitTicks(n)` / `nextTick()`: game time on the TickScheduler in scope. */
export class TicksEffect extends Effect<void> {
  readonly n: number;
  /** the function the user called, for error messages */
  readonly api: "waitTicks" | "nextTick";
  constructor(n: number, api: "waitTicks" | "nextTick") {
    super(TICKS);
    this.n = n;
    this.api = api;
  }
}

export function checkTicks(e: TicksEffect): string | null {
  return Number.isSafeInteger(e.n) && e.n >= 0
    ? null
    : `waitTicks(n) expects a non-negative integer, got ${describeValue(e.n)}`;
}

/** `suspend()`: until halted. */
export class SuspendEffect extends Effect<never> {
  constructor() {
    super(SUSPEND);
  }
}

function describe(it: object): string {
  return it instanceof Effect ? describeEffect(it) : "join";
}

/** A human-readable name of an effect, for error messages. */
export function describeEffect(effect: Effect): string {
  switch (effect.kind) {
    case CALL:
      return `call(${JSON.stringify((effect as CallEffect).name)})`;
    case UNTIL:
      return "until()";
    case SPAWN:
      return "spawn()";
    case GROUP:
      return ["", "all()", "allSettled()", "race()", "timeout()"][(effect as GroupEffect).group] ?? "group";
    case SLEEP:
      return "sleep()";
    case TICKS:
      return `${(effect as TicksEffect).api}()`;
    case SUSPEND:
      return "suspend()";
    default:
      return `effect#${effect.kind}`;
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
