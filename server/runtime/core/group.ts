import { ALL, ALL_SETTLED, TIMEOUT, checkGroup } from "./effect.ts";
import type { GroupEffect } from "./effect.ts";
import type { Coroutine } from "./coroutine.ts";
import type { EffectHandler } from "./effect-handlers.ts";
import { liveChildren, requestHalt } from "./lifecycle.ts";
import { COMPLETED, HALTED, NEXT, RUNNING, THROW } from "./state.ts";
import { HaltedError, TimeoutError } from "../errors.ts";
import type { Operation } from "../operation.ts";

/** all() / allSettled() / race() / timeout(): `ref` is the Group, which halts its children on cancel. */
export const GROUP_HANDLER: EffectHandler<GroupEffect> = {
  start(co, effect) {
    if (co.rejects(checkGroup(effect))) return;
    new Group(co, effect.group, effect.ops.length, effect.ms).start(effect.ops as readonly Operation<unknown>[]);
  },
  cancel(_co, group: Group) {
    group.cancel();
  },
};

/**
 * The children of one all() / allSettled() / race() / timeout(), and the rule deciding when the
 * waiting parent resumes. Children are ordinary child coroutines of the parent (so halting the
 * parent halts them), marked with their index; their failures go to the group, never straight
 * to the parent. Once the outcome is decided, the children still running are halted and the
 * parent resumes only after all of them have settled (their finally blocks have run).
 *
 * The group keeps no list of its children: the live ones are found in the parent's child list
 * (settled children leave it), so a settled child is garbage as soon as its result is stored.
 */
export class Group {
  private readonly parent: Coroutine<any>;
  private readonly kind: number;
  private readonly ms: number;
  private readonly results: unknown[];
  private remaining: number;
  private seq = 0;
  /** childIndex of the first child: a child's index in `ops` is its childIndex minus this. */
  private base = 0;
  private done = false;
  private cancelled = false;
  private closing = 0;
  private outMode = NEXT;
  private outValue: unknown = undefined;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** `size`: the number of operations `start()` will be given. */
  constructor(parent: Coroutine<any>, kind: number, size: number, ms: number) {
    this.parent = parent;
    this.kind = kind;
    this.ms = ms;
    this.remaining = size;
    this.results = kind === ALL || kind === ALL_SETTLED ? new Array(size) : [];
  }

  /** Suspends the parent in this group and starts one child per operation. */
  start(ops: readonly Operation<unknown>[]): void {
    const parent = this.parent;
    this.seq = parent.suspend(GROUP_HANDLER, this);
    this.base = parent.nextChildIndex;
    if (ops.length === 0) {
      this.decide(NEXT, this.results);
      return;
    }
    for (let i = 0; i < ops.length && !this.done; i++) parent.startChild(this, ops[i]);
    if (this.kind === TIMEOUT && !this.done) this.timer = setTimeout(() => this.timedOut(), this.ms);
  }

  childSettled(child: Coroutine<any>): void {
    if (this.cancelled) return;
    if (this.done) {
      if (--this.closing === 0) this.parent.wake(this.seq, this.outMode, this.outValue);
      return;
    }
    const status = child.status;
    const value = status === HALTED ? new HaltedError(child.name) : child.result;
    switch (this.kind) {
      case ALL:
        if (status !== COMPLETED) this.decide(THROW, value);
        else {
          this.results[child.childIndex - this.base] = value;
          if (--this.remaining === 0) this.decide(NEXT, this.results);
        }
        return;
      case ALL_SETTLED:
        this.results[child.childIndex - this.base] =
          status === COMPLETED ? { ok: true, value } : { ok: false, error: value };
        if (--this.remaining === 0) this.decide(NEXT, this.results);
        return;
      default: // RACE, TIMEOUT: the first to settle decides
        this.decide(status === COMPLETED ? NEXT : THROW, value);
    }
  }

  /** The parent was interrupted (halted, or a spawned child's error was thrown into it). */
  cancel(): void {
    this.cancelled = true;
    this.done = true;
    this.clearTimer();
    const children = liveChildren(this.parent, this);
    for (let i = 0; i < children.length; i++) requestHalt(children[i]);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private timedOut(): void {
    this.timer = null;
    if (!this.done) this.decide(THROW, new TimeoutError(this.parent.name, this.ms));
  }

  private decide(mode: number, value: unknown): void {
    this.done = true;
    this.outMode = mode;
    this.outValue = value;
    this.clearTimer();
    // The extra 1 keeps a child that settles synchronously inside requestHalt from resuming early.
    this.closing = 1;
    const children = liveChildren(this.parent, this);
    for (let i = 0; i < children.length; i++) {
      const child = children[i];
      if (child.status === RUNNING) {
        this.closing++;
        requestHalt(child);
      }
    }
    if (--this.closing === 0) this.parent.wake(this.seq, mode, value);
  }
}
