import {
  CALL,
  Effect,
  GROUP,
  HANDED,
  SLEEP,
  SPAWN,
  SUSPEND,
  TICKS,
  UNTIL,
  checkCall,
  checkGroup,
  checkSleep,
  checkSpawn,
  checkTicks,
  checkUntil,
  isThenable,
  iteratorReturn,
  iteratorThrow,
  joinNext,
  releaseResult,
  setExecuting,
} from "./effect.ts";
import type { CallEffect, GroupEffect, SleepEffect, SpawnEffect, TicksEffect, UntilEffect } from "./effect.ts";
import type { Context, TaskOwner } from "./context.ts";
import { Group } from "./group.ts";
import type { Journaling } from "./journaling.ts";
import { HaltedError, NonDeterminismError, describeValue, misuse } from "../errors.ts";
import { replayedError } from "../journal.ts";
import type { TickEntry, TickWaiter } from "../tick-scheduler.ts";
import type { Operation } from "../operation.ts";
import type { Task, TaskState } from "../task.ts";

/**
 * The trampoline. One Coroutine drives one generator: it steps it, handles each yielded effect,
 * and either continues synchronously (the effect had an immediate result) or suspends until a
 * callback wakes it. Everything that can resume a coroutine goes through `resume()`, which only
 * records the result when the coroutine is already on the stack, so it is never re-entered.
 *
 * Cancellation uses a generation counter (`seq`): a suspension remembers the `seq` it started
 * with; cancelling or resuming bumps it, so a late callback (a promise that settles after a
 * halt) is ignored instead of resuming anything.
 */

// Coroutine status.
export const RUNNING = 0;
export const COMPLETED = 1;
const FAILED = 2;
export const HALTED = 3;
const STATE_NAMES: TaskState[] = ["running", "completed", "failed", "halted"];

// How to step the generator.
export const NEXT = 0;
export const THROW = 1;
const RETURN = 2;

// What a suspended coroutine waits for (decides how to cancel it).
const P_NONE = 0;
const P_CALL = 1;
const P_PROMISE = 2;
const P_TIMER = 3;
const P_TICK = 4;
const P_JOIN = 5;
export const P_GROUP = 6;
const P_FOREVER = 7;
const P_DEFERRED = 8; // a resume postponed to a microtask (see MAX_DEPTH)

/**
 * Resuming is synchronous, so a coroutine finishing can resume the one joining it, which can
 * finish and resume the next...: a chain of 100 000 joins would overflow the stack. Past this
 * many nested steps a resume is postponed to a microtask instead (like an await would be).
 */
const MAX_DEPTH = 100;
let depth = 0;

// What to do once all children have settled.
const C_NONE = 0;
const C_RETURN = 1;
const C_SETTLE = 2;

let sequence = 0;

/** State most coroutines never need (scope ownership, closing, promises): allocated on demand. */
class Extra {
  order: string | null = null;
  nextChildIndex = 0;
  step = 0; // journal step: the number of journaled calls made
  owner: TaskOwner | null = null;
  closing = C_NONE;
  finalStatus = RUNNING;
  finalValue: unknown = undefined;
  hasCloseError = false;
  forced = false;
  closeError: unknown = undefined;
  crashes: unknown[] | null = null;
  joiners: Coroutine<any>[] | null = null;
  promise: Promise<any> | null = null;
  resolvePromise: ((value: any) => void) | null = null;
  rejectPromise: ((error: unknown) => void) | null = null;
  haltWaiters: (() => void)[] | null = null;
}

// Flag bits. One small integer instead of five booleans keeps coroutines small (memory is
// what a hundred thousand in-flight coroutines cost most).
const F_RUNNING = 1; // on the stack, inside drive()
const F_HALT_REQUESTED = 2;
const F_HALT_STARTED = 4;
const F_BODY_DONE = 8;
const F_HAS_NEXT = 16; // a result arrived while running; drive() continues with it
const MODE_SHIFT = 5; // ...with this mode (NEXT, THROW or RETURN) in bits 5-6, the value in `result`
const F_MODE = 3 << MODE_SHIFT;
// `effect` was handed out by its own next() (a `yield*`), in this step or, between steps, the last one.
const F_HANDED = 128;
// Resuming from the `yield*` of `effect`: its next() finishes the delegation (see effect.ts).
const F_RESUMING = 256;

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
  private iter: Iterator<Effect, T, any> | null = null;
  /** What the generator is suspended on: an effect, or a task it joins. */
  private effect: object | null = null;
  private flags = 0;

  // Children: a doubly linked list, newest first (the order they are halted in).
  private firstChild: Coroutine<any> | null = null;
  private prevSibling: Coroutine<any> | null = null;
  private nextSibling: Coroutine<any> | null = null;

  private pending = P_NONE;
  private pendingRef: any = null;
  private seq = 0;

  group: Group | null = null;
  private joiner: Coroutine<any> | null = null;
  private extra: Extra | null = null;

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

  private x(): Extra {
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
    this.requestHalt();
    if (this.status !== RUNNING) return Promise.resolve();
    const x = this.x();
    return new Promise((resolve) => (x.haltWaiters ??= []).push(resolve));
  }

  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: any) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.toPromise().then(onfulfilled, onrejected);
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
      if (this.status === RUNNING) this.bodyFinished(FAILED, error);
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
      this.bodyFinished(
        FAILED,
        misuse(this.name, `expected an operation (a generator or an effect), got ${describeValue(op)}${hint}`),
      );
      return;
    }
    try {
      this.iter = iterator.call(op);
    } catch (error) {
      this.bodyFinished(FAILED, error);
      return;
    }
    this.resume(NEXT, undefined);
  }

  // ---- the trampoline -----------------------------------------------------------------------

  private drive(mode: number, value: unknown): void {
    depth++;
    try {
      this.loop(mode, value);
    } finally {
      depth--;
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
        this.bodyFinished(FAILED, error);
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
        this.bodyFinished(COMPLETED, effect);
        return;
      }
      this.effect = effect as object;
      if (effect instanceof Effect) this.handle(effect);
      // A task joins only through `yield*` (its own next() handed it out); a plain `yield task` is misuse.
      else if (handed && effect instanceof Coroutine) this.handleJoin(effect);
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
        this.startHalt();
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
    if (depth >= MAX_DEPTH) {
      const seq = this.suspend(P_DEFERRED, null);
      queueMicrotask(() => this.wake(seq, mode, value));
      return;
    }
    this.drive(mode, value);
  }

  /** Enter a suspension; returns the generation a wake-up must present. */
  suspend(kind: number, ref: unknown): number {
    this.pending = kind;
    this.pendingRef = ref;
    return this.seq;
  }

  /** Ends suspension `seq` if it is still the current one; false for a late wake-up. */
  private claim(seq: number): boolean {
    if (seq !== this.seq || this.pending === P_NONE) return false;
    this.seq++;
    this.pending = P_NONE;
    this.pendingRef = null;
    return true;
  }

  /** Wake from a suspension if it is still the current one. */
  wake(seq: number, mode: number, value: unknown): void {
    if (this.claim(seq)) this.resume(mode, value);
  }

  tickDue(entry: TickEntry): void {
    if (this.pending === P_TICK && this.pendingRef === entry) this.wake(this.seq, NEXT, undefined);
  }

  private cancelPending(): void {
    const kind = this.pending;
    if (kind === P_NONE) return;
    const ref = this.pendingRef;
    this.pending = P_NONE;
    this.pendingRef = null;
    this.seq++;
    switch (kind) {
      case P_CALL: // a journaled call stays journaled as cut off (see journaling.ts)
        if (ref !== null) (ref as AbortController).abort();
        break;
      case P_TIMER:
        clearTimeout(ref);
        break;
      case P_TICK:
        this.ctx.ticks?.cancel(ref as TickEntry);
        break;
      case P_JOIN:
        (ref as Coroutine<any>).removeJoiner(this);
        break;
      case P_GROUP:
        (ref as Group).cancel();
        break;
    }
  }

  // ---- effects ------------------------------------------------------------------------------

  private handle(effect: Effect): void {
    switch (effect.kind) {
      case CALL:
        this.handleCall(effect as CallEffect);
        return;
      case UNTIL: {
        const until = effect as UntilEffect;
        if (this.rejects(checkUntil(until))) return;
        this.await(until.promise, P_PROMISE, null, -1);
        return;
      }
      case SPAWN: {
        // only when yielded with a plain `yield`; `yield*` completes in spawnNow()
        let child: Coroutine<unknown>;
        try {
          child = this.spawnNow(effect as SpawnEffect);
        } catch (error) {
          this.resume(THROW, error);
          return;
        }
        this.resume(NEXT, child);
        return;
      }
      case GROUP: {
        const group = effect as GroupEffect;
        if (this.rejects(checkGroup(group))) return;
        new Group(this, group.group, group.ops.length, group.ms).start(group.ops as readonly Operation<unknown>[]);
        return;
      }
      case SLEEP: {
        const sleep = effect as SleepEffect;
        if (this.rejects(checkSleep(sleep))) return;
        const seq = this.suspend(P_TIMER, null);
        this.pendingRef = setTimeout(() => this.wake(seq, NEXT, undefined), sleep.ms);
        return;
      }
      case TICKS: {
        const wait = effect as TicksEffect;
        const ticks = this.ctx.ticks;
        if (ticks === null) {
          this.resume(
            THROW,
            misuse(this.name, `${wait.api}() needs a TickScheduler: pass { ticks } to run() or to the Scope`),
          );
        } else if (this.rejects(checkTicks(wait))) {
          return;
        } else if (wait.n === 0) {
          this.resume(NEXT, undefined);
        } else {
          this.suspend(P_TICK, null);
          this.pendingRef = ticks.add(this, this.order, this.id, wait.n);
        }
        return;
      }
      case SUSPEND:
        this.suspend(P_FOREVER, null);
        return;
      default:
        this.resume(THROW, misuse(this.name, `yielded an unknown effect kind ${effect.kind}`));
    }
  }

  /** Throws an effect's argument problem (see the checks in effect.ts) into the coroutine. */
  private rejects(problem: string | null): boolean {
    if (problem === null) return false;
    this.resume(THROW, misuse(this.name, problem));
    return true;
  }

  private handleCall(effect: CallEffect): void {
    if (this.rejects(checkCall(effect))) return;
    const journaling = this.ctx.journaling;
    let position = -1;
    if (journaling !== null) {
      const step = this.x().step++;
      if (journaling.replaying) {
        this.replayCall(journaling, step, effect.name);
        return;
      }
      position = journaling.begin(this.name, step, effect.name);
      if (position < 0) {
        this.resume(
          THROW,
          misuse(this.name, `step ${step} is already in the journal: coroutines sharing a journal need distinct names`),
        );
        return;
      }
    }
    const fn = effect.fn;
    // The signal is created only when fn declares a parameter: most calls never use one.
    const controller = fn.length === 0 ? null : new AbortController();
    let mode = NEXT;
    let result: unknown;
    try {
      result = controller === null ? (fn as () => unknown)() : fn(controller.signal);
    } catch (error) {
      mode = THROW;
      result = error;
    }
    if (mode === NEXT && isThenable(result)) {
      this.await(result, P_CALL, controller, position);
    } else {
      if (position >= 0) (journaling as Journaling).settle(position, mode === NEXT, result);
      this.resume(mode, result);
    }
  }

  /**
   * Suspends until `promise` settles. `position`: the call's journal entry in record mode, settled
   * when the coroutine consumes the outcome (a late outcome after a halt is never journaled).
   */
  private await(promise: PromiseLike<unknown>, kind: number, ref: unknown, position: number): void {
    const seq = this.suspend(kind, ref);
    try {
      promise.then(
        (value) => this.settled(seq, position, NEXT, value),
        (error) => this.settled(seq, position, THROW, error),
      );
    } catch (error) {
      this.settled(seq, position, THROW, error);
    }
  }

  private settled(seq: number, position: number, mode: number, value: unknown): void {
    if (!this.claim(seq)) return;
    if (position >= 0) (this.ctx.journaling as Journaling).settle(position, mode === NEXT, value);
    this.resume(mode, value);
  }

  /** Replay mode: the recorded outcome of the call at this step, no I/O. */
  private replayCall(journaling: Journaling, step: number, name: string): void {
    const entry = journaling.replay(this.name, step, name);
    if (entry instanceof NonDeterminismError) this.diverge(entry);
    else if (entry.ok) this.resume(NEXT, entry.value);
    else if (entry.halted === true)
      this.suspend(P_FOREVER, null); // cut off when recorded: wait to be cut off again
    else this.resume(THROW, replayedError(entry.error));
  }

  /** Replay diverged: the whole run stops with the error; the coroutine cannot catch it. */
  private diverge(error: NonDeterminismError): void {
    this.suspend(P_FOREVER, null);
    let root: Coroutine<any> = this;
    while (root.parent !== null) root = root.parent;
    root.failWith(error);
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

  /** The children of `group` that have not settled, newest first (the order they are halted in). */
  liveChildren(group: Group): Coroutine<any>[] {
    const children: Coroutine<any>[] = [];
    for (let c: Coroutine<any> | null = this.firstChild; c !== null; c = c.nextSibling) {
      if (c.group === group) children.push(c);
    }
    return children;
  }

  /** The outcome of a settled coroutine, for a join: its value, or its error thrown. */
  joinNow(): T {
    if (this.status === COMPLETED) return this.result;
    if (this.status === FAILED) throw this.result;
    throw new HaltedError(this.name);
  }

  private handleJoin(target: Coroutine<any>): void {
    if (target.status !== RUNNING) {
      this.deliverJoin(target);
    } else if (target === this) {
      this.resume(THROW, misuse(this.name, "a coroutine cannot join itself"));
    } else {
      this.suspend(P_JOIN, target);
      if (target.joiner === null) target.joiner = this;
      else (target.x().joiners ??= []).push(this);
    }
  }

  private deliverJoin(target: Coroutine<any>): void {
    if (target.status === COMPLETED) this.resume(NEXT, target.result);
    else if (target.status === FAILED) this.resume(THROW, target.result);
    else this.resume(THROW, new HaltedError(target.name));
  }

  private joined(target: Coroutine<any>): void {
    if (this.pending === P_JOIN && this.pendingRef === target && this.claim(this.seq)) this.deliverJoin(target);
  }

  private removeJoiner(joiner: Coroutine<any>): void {
    const joiners = this.extra === null ? null : this.extra.joiners;
    if (this.joiner === joiner) {
      this.joiner = joiners !== null && joiners.length > 0 ? (joiners.shift() as Coroutine<any>) : null;
    } else if (joiners !== null) {
      const i = joiners.indexOf(joiner);
      if (i >= 0) joiners.splice(i, 1);
    }
  }

  // ---- halting, closing, settling -----------------------------------------------------------

  requestHalt(): void {
    const flags = this.flags;
    if (this.status !== RUNNING || (flags & F_HALT_REQUESTED) !== 0) return;
    this.flags = flags | F_HALT_REQUESTED;
    // On the stack: the drive loop starts the halt at the next suspension point.
    // Body done: already closing its children.
    if ((flags & (F_RUNNING | F_BODY_DONE)) !== 0) return;
    // Halting recurses into children: bound the depth like resume() does.
    if (depth >= MAX_DEPTH) {
      queueMicrotask(() => {
        if (this.status === RUNNING && (this.flags & (F_RUNNING | F_BODY_DONE | F_HALT_STARTED)) === 0)
          this.nest(C_RETURN);
      });
      return;
    }
    this.nest(C_RETURN);
  }

  /** Starts the halt (C_RETURN) or the closing continuation (C_SETTLE) one level deeper. */
  private nest(then: number): void {
    depth++;
    try {
      if (then === C_RETURN) this.startHalt();
      else this.afterClose(C_SETTLE);
    } finally {
      depth--;
    }
  }

  /** Halt and fail with `error` whatever the body does (used for replay divergence). */
  failWith(error: unknown): void {
    if (this.status !== RUNNING) return;
    const x = this.x();
    if (!x.forced) {
      x.forced = true;
      x.hasCloseError = true;
      x.closeError = error;
    }
    this.requestHalt();
  }

  private startHalt(): void {
    this.flags |= F_HALT_STARTED;
    this.cancelPending();
    this.closeChildren(C_RETURN);
  }

  /** A spawned child failed and nobody joined it: throw the error into this coroutine. */
  childFailed(error: unknown): void {
    if (this.status !== RUNNING) return;
    const flags = this.flags;
    if ((flags & (F_HALT_REQUESTED | F_BODY_DONE)) !== 0) {
      this.noteCloseError(error);
    } else if ((flags & F_RUNNING) !== 0) {
      (this.x().crashes ??= []).push(error);
    } else {
      this.cancelPending();
      this.resume(THROW, error);
    }
  }

  private noteCloseError(error: unknown): void {
    const x = this.x();
    if (!x.hasCloseError) {
      x.hasCloseError = true;
      x.closeError = error;
    }
  }

  private bodyFinished(status: number, value: unknown): void {
    this.flags |= F_BODY_DONE;
    this.iter = null;
    this.effect = null;
    if ((this.flags & F_HALT_STARTED) !== 0) {
      if (status === FAILED) this.noteCloseError(value);
      status = HALTED;
      value = undefined;
    }
    if (this.firstChild === null) {
      this.finish(status, value);
      return;
    }
    const x = this.x();
    x.finalStatus = status;
    x.finalValue = value;
    this.closeChildren(C_SETTLE);
  }

  /** Halt every live child, newest first; `then` runs once none is left. */
  private closeChildren(then: number): void {
    if (this.firstChild === null) {
      this.afterClose(then);
      return;
    }
    this.x().closing = then;
    const children: Coroutine<any>[] = [];
    for (let c: Coroutine<any> | null = this.firstChild; c !== null; c = c.nextSibling) children.push(c);
    for (let i = 0; i < children.length; i++) children[i].requestHalt();
  }

  private afterClose(then: number): void {
    if (then === C_RETURN) {
      if (this.iter === null) this.bodyFinished(HALTED, undefined);
      else this.resume(RETURN, undefined);
    } else {
      const x = this.x();
      this.finish(x.finalStatus, x.finalValue);
    }
  }

  private finish(status: number, value: unknown): void {
    const x = this.extra;
    if (x !== null && x.hasCloseError && (x.forced || status !== FAILED)) {
      status = FAILED;
      value = x.closeError;
    }
    this.settle(status, value);
  }

  private settle(status: number, value: unknown): void {
    this.status = status;
    this.result = value;
    const parent = this.parent;
    if (parent !== null) {
      const prev = this.prevSibling;
      const next = this.nextSibling;
      if (prev !== null) prev.nextSibling = next;
      else parent.firstChild = next;
      if (next !== null) next.prevSibling = prev;
      this.prevSibling = null;
      this.nextSibling = null;
    }
    const joiner = this.joiner;
    const x = this.extra;
    if (joiner !== null) {
      this.joiner = null;
      joiner.joined(this);
      const joiners = x === null ? null : x.joiners;
      if (joiners !== null) {
        (x as Extra).joiners = null;
        for (let i = 0; i < joiners.length; i++) joiners[i].joined(this);
      }
    }
    if (this.group !== null) this.group.childSettled(this);
    else if (status === FAILED && joiner === null && parent !== null) parent.childFailed(value);
    if (parent !== null && parent.firstChild === null && parent.extra !== null && parent.extra.closing !== C_NONE) {
      const then = parent.extra.closing;
      parent.extra.closing = C_NONE;
      // C_RETURN resumes the parent (depth-bounded in resume); C_SETTLE settles it, which can
      // climb a deep tree, so it is bounded here.
      if (then === C_RETURN) parent.afterClose(C_RETURN);
      else if (depth >= MAX_DEPTH) queueMicrotask(() => parent.nest(C_SETTLE));
      else parent.nest(C_SETTLE);
    }
    if (x === null) return;
    if (x.owner !== null) x.owner.taskSettled(this);
    if (x.resolvePromise !== null) {
      if (status === COMPLETED) x.resolvePromise(value);
      else (x.rejectPromise as (e: unknown) => void)(status === FAILED ? value : new HaltedError(this.name));
      x.resolvePromise = null;
      x.rejectPromise = null;
    }
    const waiters = x.haltWaiters;
    if (waiters !== null) {
      x.haltWaiters = null;
      for (let i = 0; i < waiters.length; i++) waiters[i]();
    }
  }

  private toPromise(): Promise<T> {
    const x = this.x();
    if (x.promise === null) {
      if (this.status === COMPLETED) x.promise = Promise.resolve(this.result as T);
      else if (this.status === FAILED) x.promise = Promise.reject(this.result);
      else if (this.status === HALTED) x.promise = Promise.reject(new HaltedError(this.name));
      else {
        x.promise = new Promise<T>((resolve, reject) => {
          x.resolvePromise = resolve;
          x.rejectPromise = reject;
        });
      }
    }
    return x.promise;
  }
}
