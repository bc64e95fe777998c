/**
 * Effects are small plain descriptors that a coroutine hands to the runtime with `yield*`.
 *
 * Each effect is its own iterator, so `yield* effect` costs no extra generator: the first
 * `next()` hands the effect to the coroutine whose generator is executing (`Executing.handOut`)
 * and returns the constant HANDED result, which `yield*` passes to the runtime unchanged; when
 * the runtime resumes the coroutine, the following `next(value)` of that same effect
 * (`Executing.resumes`) finishes the delegation with `value`. A task is its own iterator the same
 * way (`joinNext`): `yield* task` joins it. The marks live on the coroutine, not on the effect,
 * so one effect object may be shared by several coroutines (e.g. a module-level `nextTick()`) and
 * re-yielded any number of times.
 *
 * Why on the coroutine and why a constant: module-level state lives in V8's old generation, and
 * storing a freshly allocated effect there costs a write barrier on every step; a coroutine is
 * usually young itself, and HANDED is never written.
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

/** What every hand-out `next()` returns: the runtime reads the effect from the coroutine. */
export const HANDED: IteratorResult<any, any> = Object.freeze({ done: false, value: undefined });

/**
 * The one iterator result every finished delegation returns. `yield*` reads `done` and `value`
 * as soon as `next()` returns, so a shared mutable object is never observed stale; it saves an
 * allocation per step, which matters most with a hundred thousand coroutines in flight.
 */
const result: { done: boolean; value: any } = { done: true, value: undefined };

function done(value: unknown): IteratorResult<any, any> {
  result.value = value;
  return result as IteratorResult<any, any>;
}

/** Called by the runtime once a step has returned: the shared result keeps nothing alive. */
export function releaseResult(): void {
  result.value = undefined;
}

/**
 * The coroutine whose generator is executing, set by the runtime around each step. Effects
 * with an immediate result use it to complete inside `next()` without suspending the generator
 * at all (a spawn, joining a task that has already settled): half of a typical coroutine's
 * effects then cost no generator round trip.
 */
export interface Executing {
  readonly name: string;
  /** True, once, when the coroutine is being resumed from the `yield*` of `it`. */
  resumes(it: object): boolean;
  /** Records `it` as handed out in this step; false if it already was (a second `next()`). */
  handOut(it: object): boolean;
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

/** The coroutine iterating `it`, or a TypeError for iteration outside any coroutine. */
function executingCoroutine(it: object): Executing {
  const by = executing;
  // Iterated by something other than `yield*` in a coroutine (spread, Array.from, a deep-equal
  // or pretty-printer walking a Task): fail loudly rather than yield this effect forever.
  if (by === null) {
    throw new TypeError(
      `${describe(it)} was iterated outside a coroutine: consume effects and tasks with yield* inside run(), or await a task`,
    );
  }
  return by;
}

/** The first `next()` of a `yield*`: hands `it` to the coroutine, or a TypeError for a second one. */
function handOut(by: Executing, it: object): IteratorResult<any, any> {
  if (!by.handOut(it)) {
    throw new TypeError(
      `coroutine "${by.name}": ${describe(it)} was iterated again before the runtime resumed it: consume effects and tasks only with yield*`,
    );
  }
  return HANDED;
}

/** `next()` of a task: `yield* task` joins it (completing at once when it has settled). */
export function joinNext(task: Joinable, value: unknown): IteratorResult<any, any> {
  const by = executingCoroutine(task);
  if (by.resumes(task)) return done(value);
  if (task.status !== 0) return done(task.joinNow());
  return handOut(by, task);
}

/** `throw()` of an effect or task: the runtime throws into a coroutine suspended on it. */
export function iteratorThrow(error: unknown): never {
  throw error;
}

/** `return()` of an effect or task: the runtime closes a coroutine suspended on it. */
export function iteratorReturn(value: unknown): IteratorResult<any, any> {
  return done(value);
}

/**
 * The base of every effect: the iterator protocol (see the file comment). `kind` is what the
 * trampoline dispatches on; the fields each kind carries are named on its own class below.
 * The base has no constructor and no fields of its own: V8 then constructs a subclass as fast as
 * a plain class (a base constructor with fields costs a generic construct stub per effect).
 */
export class Effect<T = unknown> implements Iterator<Effect, T, any> {
  declare readonly kind: number;

  [Symbol.iterator](): Iterator<Effect, T, any> {
    return this;
  }

  next(value?: any): IteratorResult<Effect, T> {
    const by = executingCoroutine(this);
    return by.resumes(this) ? done(value) : handOut(by, this);
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
  readonly kind = CALL;
  readonly name: string;
  readonly fn: (signal: AbortSignal) => unknown;
  constructor(name: string, fn: (signal: AbortSignal) => unknown) {
    super();
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
  readonly kind = UNTIL;
  readonly promise: PromiseLike<T>;
  constructor(promise: PromiseLike<T>) {
    super();
    this.promise = promise;
  }
}

export function checkUntil(e: UntilEffect): string | null {
  return isThenable(e.promise) ? null : `until() expects a promise, got ${describeValue(e.promise)}`;
}

/** `spawn(body, options)`: completes inside `next()` (see `Executing.spawnNow`). */
export class SpawnEffect<T = unknown> extends Effect<T> {
  readonly kind = SPAWN;
  readonly body: () => unknown;
  readonly options: { name?: string; order?: string } | undefined;
  constructor(body: () => unknown, options: { name?: string; order?: string } | undefined) {
    super();
    this.body = body;
    this.options = options;
  }

  // Never handed out, so never resumed from: a plain `yield` of it is resumed with the task directly.
  override next(): IteratorResult<Effect, T> {
    return done(executingCoroutine(this).spawnNow(this));
  }
}

export function checkSpawn(e: SpawnEffect): string | null {
  return typeof e.body === "function"
    ? null
    : `spawn() expects a function returning an operation, got ${describeValue(e.body)}`;
}

/** `all` / `allSettled` / `race` / `timeout`: children run by a Group (group.ts). */
export class GroupEffect<T = unknown> extends Effect<T> {
  readonly kind = GROUP;
  /** ALL, ALL_SETTLED, RACE or TIMEOUT */
  readonly group: number;
  readonly ops: readonly unknown[];
  /** TIMEOUT's deadline; 0 for the others */
  readonly ms: number;
  constructor(group: number, ops: readonly unknown[], ms: number) {
    super();
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
  readonly kind = SLEEP;
  readonly ms: number;
  constructor(ms: number) {
    super();
    this.ms = ms;
  }
}

export function checkSleep(e: SleepEffect): string | null {
  return isMs(e.ms) ? null : `sleep(ms) expects ms between 0 and 2^31-1, got ${describeValue(e.ms)}`;
}

/** `waitTicks(n)` / `nextTick()`: game time on the TickScheduler in scope. */
export class TicksEffect extends Effect<void> {
  readonly kind = TICKS;
  readonly n: number;
  /** the function the user called, for error messages */
  readonly api: "waitTicks" | "nextTick";
  constructor(n: number, api: "waitTicks" | "nextTick") {
    super();
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
  readonly kind = SUSPEND;
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
