import {
  Effect,
  HANDED,
  checkSpawn,
  isThenable,
  iteratorReturn,
  iteratorThrow,
  joinNext,
  releaseResult,
  setExecuting,
} from "./effect.ts";
import type { SpawnEffect } from "./effect.ts";
import type { Context, TaskOwner } from "./context.ts";
import { HANDLERS, TICKS_HANDLER } from "./effect-handlers.ts";
import type { Waiting } from "./effect-handlers.ts";
import type { Group } from "./group.ts";
import { join, joinNow } from "./joins.ts";
import { bodyFinished, promiseOf, requestHalt, startHalt } from "./lifecycle.ts";
import { Extra, STATE_NAMES, nesting } from "./state.ts";
import * as state from "./state.ts";
import { describeValue, misuse } from "../errors.ts";
import type { TickEntry, TickWaiter } from "../tick-scheduler.ts";
import type { Operation } from "../operation.ts";
import type { Task, TaskState } from "../task.ts";

/**
 * The trampoline. One Coroutine drives one generator: it steps it, handles each yielded effect,
 * and either continues synchronously (the effect had an immediate result) or suspends until a
 * callback wakes it. Everything that can resume a coroutine goes through `resume()`, which only
 * records the result when the coroutine is already on the stack, so it is never re-entered.
 *
 * Each effect is carried out by its handler (effect-handlers.ts): `start` when it is yielded,
 * `cancel` when the suspension it entered is interrupted. A suspended coroutine remembers that
 * handler (`pending`) and what it set up (`pendingRef`), and a generation counter (`seq`): a
 * suspension remembers the `seq` it started with; cancelling or resuming bumps it, so a late
 * callback (a promise that settles after a halt) is ignored instead of resuming anything.
 *
 * How a coroutine ends (halting, closing its children, settling) is lifecycle.ts; joins are
 * joins.ts. Members without `private` are used there, by the handlers, by run() and by Scope;
 * outside the runtime a coroutine is seen as a Task.
 */

// Module-local copies of the flag bits, modes and statuses, which the trampoline uses on every
// step: an imported binding costs a load at each use where a module-local constant costs none
// (measured with bench/runtime.ts's runners, imported vs local in one process: spawn + join ~5%
// slower at N = 1000 with the flags imported).
const { COMPLETED, FAILED, NEXT, RUNNING, THROW, MAX_DEPTH, MODE_SHIFT, F_MODE } = state;
const { F_RUNNING, F_HALT_REQUESTED, F_HALT_STARTED, F_HAS_NEXT, F_HANDED, F_RESUMING } = state;

/** A resume postponed to a microtask (see MAX_DEPTH): nothing to tear down. */
const DEFERRED: Waiting = { cancel() {} };

let sequence = 0;

export class Coroutine<T = unknown> implements Task<T>, TickWaiter {
  /** Spawn sequence: global creation order, the tie-break of tick ordering. */
  readonly id: number;
  readonly parent: Coroutine<any> | null;
  readonly ctx: Context;
  private label: string | undefined;
  readonly childIndex: number;

  status = RUNNING;
  /** The outcome once settled; while running, the value a pending resume continues with. */
  result: any = undefined;
  iter: Iterator<Effect, T, any> | null = null;
  /** What the generator is suspended on: an effect, or a task it joins. */
  effect: object | null = null;
  /** F_* bits (state.ts) */
  flags = 0;

  // Children: a doubly linked list, newest first (the order they are halted in).
  firstChild: Coroutine<any> | null = null;
  prevSibling: Coroutine<any> | null = null;
  nextSibling: Coroutine<any> | null = null;

  /** What the coroutine is suspended on (null: not suspended), and what that suspension set up. */
  pending: Waiting | null = null;
  pendingRef: any = null;
  private seq = 0;

  group: Group | null = null;
  /** The first coroutine joining this one (others wait in Extra: one joiner is the common case). */
  joiner: Coroutine<any> | null = null;
  extra: Extra | null = null;

  constructor(parent: Coroutine<any> | null, ctx: Context, label: string | undefined, order: string | undefined) {
    this.id = ++sequence;
    this.parent = parent;
    this.ctx = ctx;
    this.label = label;
    // The order key is inherited (see the getter) unless given: stored only when it differs.
    if (order !== undefined && (parent === null ? order !== label : order !== parent.order)) this.x().order = order;
    if (parent !== null) {
      this.childIndex = parent.x().nextChildIndex++;
      const head = parent.firstChild;
      this.nextSibling = head;
      if (head !== null) head.prevSibling = this;
      parent.firstChild = this;
    } else {
      this.childIndex = 0;
    }
  }

  /** Order key for tick scheduling: given at creation, else the parent's (a root's: its name). */
  get order(): string {
    for (let c: Coroutine<any> = this; ; c = c.parent as Coroutine<any>) {
      const own = c.extra === null ? null : c.extra.order;
      if (own !== null) return own;
      if (c.parent === null) return c.label ?? "";
    }
  }

  /** Index the next child gets (children of a group are told apart by it). */
  get nextChildIndex(): number {
    return this.extra === null ? 0 : this.extra.nextChildIndex;
  }

  /** This coroutine's Extra, allocated on first use. */
  x(): Extra {
    return (this.extra ??= new Extra());
  }

  /** Set by a Scope on its root coroutines. */
  set owner(owner: TaskOwner) {
    this.x().owner = owner;
  }

  // ---- public Task surface ------------------------------------------------------------------

  /** Unnamed children are named `<parent>.<index>` (lazily: most names are never read). */
  get name(): string {
    if (this.label === undefined) this.label = `${(this.parent as Coroutine<any>).name}.${this.childIndex}`;
    return this.label;
  }

  get state(): TaskState {
    return STATE_NAMES[this.status];
  }

  get error(): unknown {
    return this.status === FAILED ? this.result : undefined;
  }

  halt(): Promise<void> {
    requestHalt(this);
    if (this.status !== RUNNING) return Promise.resolve();
    const x = this.x();
    return new Promise((resolve) => (x.haltWaiters ??= []).push(resolve));
  }

  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: any) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return promiseOf(this).then(onfulfilled, onrejected);
  }

  // A task is its own join iterator (see joinNext in effect.ts): `yield* task` allocates nothing.
  [Symbol.iterator](): Iterator<Effect, T, any> {
    return this;
  }

  next(value?: any): IteratorResult<Effect, T> {
    return joinNext(this, value);
  }

  throw(error: unknown): IteratorResult<Effect, T> {
    return iteratorThrow(error);
  }

  return(value?: any): IteratorResult<Effect, T> {
    return iteratorReturn(value);
  }

  // ---- the yield* protocol of effects and tasks (see effect.ts) --------------------------------

  /** True, once, when this coroutine is being resumed from the `yield*` of `it`. */
  resumes(it: object): boolean {
    if ((this.flags & F_RESUMING) === 0 || this.effect !== it) return false;
    this.flags &= ~F_RESUMING;
    return true;
  }

  /** Records `it` as handed out by this step's `yield*`; false if it already was (iterated twice). */
  handOut(it: object): boolean {
    const flags = this.flags;
    if ((flags & F_HANDED) !== 0 && this.effect === it) return false;
    this.flags = (flags & ~F_RESUMING) | F_HANDED;
    this.effect = it;
    return true;
  }

  // ---- starting -----------------------------------------------------------------------------

  startBody(body: () => Operation<T>): void {
    let op: Operation<T>;
    try {
      op = body();
    } catch (error) {
      if (this.status === RUNNING) bodyFinished(this, FAILED, error);
      return;
    }
    this.startOp(op);
  }

  startOp(op: Operation<T>): void {
    // Halted while the body function ran (it removed its own entity, say): never start.
    if (this.status !== RUNNING) return;
    // One lookup of the iterator method: with many generator functions it is a megamorphic load.
    const iterator = op === null || op === undefined ? undefined : (op as any)[Symbol.iterator];
    if (typeof iterator !== "function") {
      const hint =
        typeof op === "function"
          ? " (a function: did you forget to call the generator function?)"
          : isThenable(op)
            ? " (use call() or until() for promises and async functions)"
            : "";
      bodyFinished(
        this,
        FAILED,
        misuse(this.name, `expected an operation (a generator or an effect), got ${describeValue(op)}${hint}`),
      );
      return;
    }
    try {
      this.iter = iterator.call(op);
    } catch (error) {
      bodyFinished(this, FAILED, error);
      return;
    }
    this.resume(NEXT, undefined);
  }

  // ---- the trampoline -----------------------------------------------------------------------

  private drive(mode: number, value: unknown): void {
    nesting.depth++;
    try {
      this.loop(mode, value);
    } finally {
      nesting.depth--;
    }
  }

  private loop(mode: number, value: unknown): void {
    const iter = this.iter;
    if (iter === null) return;
    this.flags |= F_RUNNING;
    for (;;) {
      let r: IteratorResult<Effect, T>;
      const outer = setExecuting(this);
      // A suspension on a handed-out effect is resumed through that effect's next(); THROW and
      // RETURN go through its throw() / return(), which need no mark.
      const flags = this.flags & ~F_HANDED;
      this.flags = mode === NEXT && (this.flags & F_HANDED) !== 0 ? flags | F_RESUMING : flags;
      try {
        if (mode === NEXT) {
          r = iter.next(value);
        } else if (mode === THROW) {
          if (typeof iter.throw !== "function") throw value;
          r = iter.throw(value);
        } else {
          r = typeof iter.return === "function" ? iter.return(undefined) : { done: true, value: undefined as T };
        }
      } catch (error) {
        setExecuting(outer);
        releaseResult();
        this.flags &= ~(F_RUNNING | F_HANDED | F_RESUMING);
        bodyFinished(this, FAILED, error);
        return;
      }
      setExecuting(outer);
      // F_HANDED stays set only when the step ended in a `yield*` hand-out (the effect is then
      // in `this.effect`); a plain `yield` passes its value in a result of the generator's own.
      const handed = r === HANDED;
      const finished = !handed && r.done === true;
      const effect: unknown = handed ? this.effect : r.value;
      releaseResult();
      this.flags &= handed ? ~F_RESUMING : ~(F_RESUMING | F_HANDED);
      if (finished) {
        this.flags &= ~F_RUNNING;
        bodyFinished(this, COMPLETED, effect);
        return;
      }
      this.effect = effect as object;
      if (effect instanceof Effect) {
        const handler = HANDLERS[effect.kind];
        if (handler !== undefined) handler.start(this, effect);
        else this.resume(THROW, misuse(this.name, `yielded an unknown effect kind ${effect.kind}`));
      }
      // A task joins only through `yield*` (its own next() handed it out); a plain `yield task` is misuse.
      else if (handed && effect instanceof Coroutine) join(this, effect);
      else
        this.resume(
          THROW,
          misuse(
            this.name,
            `yielded ${describeValue(effect)}, which is not an effect (use yield*, and until() or call() for promises)`,
          ),
        );

      // Interruptions that arrived while the coroutine was on the stack.
      if ((this.flags & (F_HALT_REQUESTED | F_HALT_STARTED)) === F_HALT_REQUESTED) {
        this.flags &= ~F_HAS_NEXT;
        startHalt(this);
      } else if (this.extra !== null && this.extra.crashes !== null) {
        const crashes = this.extra.crashes;
        const error = crashes.shift();
        if (crashes.length === 0) this.extra.crashes = null;
        this.cancelPending();
        this.flags = (this.flags & ~F_MODE) | F_HAS_NEXT | (THROW << MODE_SHIFT);
        this.result = error;
      }
      if ((this.flags & F_HAS_NEXT) === 0) {
        this.flags &= ~F_RUNNING;
        return;
      }
      mode = (this.flags & F_MODE) >> MODE_SHIFT;
      this.flags &= ~F_HAS_NEXT;
      value = this.result;
      this.result = undefined;
    }
  }

  /** Continue with a result; deferred to the drive loop when the coroutine is on the stack. */
  resume(mode: number, value: unknown): void {
    if ((this.flags & F_RUNNING) !== 0) {
      this.flags = (this.flags & ~F_MODE) | F_HAS_NEXT | (mode << MODE_SHIFT);
      this.result = value;
      return;
    }
    if (nesting.depth >= MAX_DEPTH) {
      const seq = this.suspend(DEFERRED, null);
      queueMicrotask(() => this.wake(seq, mode, value));
      return;
    }
    this.drive(mode, value);
  }

  /** Enter a suspension; returns the generation a wake-up must present. */
  suspend(waiting: Waiting, ref: unknown): number {
    this.pending = waiting;
    this.pendingRef = ref;
    return this.seq;
  }

  /** Ends suspension `seq` if it is still the current one; false for a late wake-up. */
  claim(seq: number): boolean {
    if (seq !== this.seq || this.pending === null) return false;
    this.seq++;
    this.pending = null;
    this.pendingRef = null;
    return true;
  }

  /** Ends the current suspension if it is on `waiting` with `ref`; false otherwise. */
  claimWait(waiting: Waiting, ref: unknown): boolean {
    return this.pending === waiting && this.pendingRef === ref && this.claim(this.seq);
  }

  /** Wake from a suspension if it is still the current one. */
  wake(seq: number, mode: number, value: unknown): void {
    if (this.claim(seq)) this.resume(mode, value);
  }

  tickDue(entry: TickEntry): void {
    if (this.claimWait(TICKS_HANDLER, entry)) this.resume(NEXT, undefined);
  }

  /** Interrupts the current suspension: its handler tears down what it set up. */
  cancelPending(): void {
    const waiting = this.pending;
    if (waiting === null) return;
    const ref = this.pendingRef;
    this.pending = null;
    this.pendingRef = null;
    this.seq++;
    waiting.cancel(this, ref);
  }

  // ---- effects (carried out by their handlers, effect-handlers.ts) ------------------------------

  /** Throws an effect's argument problem (see the checks in effect.ts) into the coroutine. */
  rejects(problem: string | null): boolean {
    if (problem === null) return false;
    this.resume(THROW, misuse(this.name, problem));
    return true;
  }

  /** Starts a child now: called from SPAWN's `next()` while this coroutine's generator runs. */
  spawnNow(effect: SpawnEffect): Coroutine<unknown> {
    const problem = checkSpawn(effect);
    if (problem !== null) throw misuse(this.name, problem);
    const options = effect.options;
    const child = new Coroutine<unknown>(this, this.ctx, options?.name, options?.order);
    child.startBody(effect.body as () => Operation<unknown>);
    return child;
  }

  /** Starts a child of `group` (all, race...) on `op`. */
  startChild(group: Group, op: Operation<unknown>): void {
    const child = new Coroutine<unknown>(this, this.ctx, undefined, undefined);
    child.group = group;
    child.startOp(op);
  }

  joinNow(): T {
    return joinNow(this);
  }
}
