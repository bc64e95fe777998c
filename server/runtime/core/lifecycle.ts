import type { Coroutine } from "./coroutine.ts";
import type { Group } from "./group.ts";
import { notifyJoiners } from "./joins.ts";
import {
  COMPLETED,
  C_NONE,
  C_RETURN,
  C_SETTLE,
  FAILED,
  F_BODY_DONE,
  F_HALT_REQUESTED,
  F_HALT_STARTED,
  F_RUNNING,
  HALTED,
  MAX_DEPTH,
  RETURN,
  RUNNING,
  THROW,
  nesting,
} from "./state.ts";
import { HaltedError } from "../errors.ts";

/**
 * How a coroutine ends. Its body returns, throws or is halted; then its live children are halted,
 * newest first, and waited for (structured concurrency: a child never outlives its parent); then
 * it settles, and whoever waits is told: joiners, its group or its parent (a failure nobody joined),
 * its Scope, the promise of an `await`, the callers of `halt()`.
 *
 * Halting cancels the current suspension (its handler's teardown), closes the children, then
 * returns the generator so its `finally` blocks run (and may yield). An error from a `finally`,
 * or from a child while closing, becomes the outcome (`closeError`); `failWith` forces one.
 */

/** Asks `co` to halt; it starts at once unless `co` is on the stack (its drive loop starts it). */
export function requestHalt(co: Coroutine<any>): void {
  const flags = co.flags;
  if (co.status !== RUNNING || (flags & F_HALT_REQUESTED) !== 0) return;
  co.flags = flags | F_HALT_REQUESTED;
  // On the stack: the drive loop starts the halt at the next suspension point.
  // Body done: already closing its children.
  if ((flags & (F_RUNNING | F_BODY_DONE)) !== 0) return;
  // Halting recurses into children: bound the depth like resume() does.
  if (nesting.depth >= MAX_DEPTH) {
    queueMicrotask(() => {
      if (co.status === RUNNING && (co.flags & (F_RUNNING | F_BODY_DONE | F_HALT_STARTED)) === 0) nest(co, C_RETURN);
    });
    return;
  }
  nest(co, C_RETURN);
}

/** Starts the halt (C_RETURN) or the closing continuation (C_SETTLE) one level deeper. */
function nest(co: Coroutine<any>, then: number): void {
  nesting.depth++;
  try {
    if (then === C_RETURN) startHalt(co);
    else afterClose(co, C_SETTLE);
  } finally {
    nesting.depth--;
  }
}

/** Halt and fail with `error` whatever the body does (used for replay divergence). */
export function failWith(co: Coroutine<any>, error: unknown): void {
  if (co.status !== RUNNING) return;
  const x = co.x();
  if (!x.forced) {
    x.forced = true;
    x.hasCloseError = true;
    x.closeError = error;
  }
  requestHalt(co);
}

export function startHalt(co: Coroutine<any>): void {
  co.flags |= F_HALT_STARTED;
  co.cancelPending();
  closeChildren(co, C_RETURN);
}

/** A spawned child failed and nobody joined it: throw the error into `co`. */
function childFailed(co: Coroutine<any>, error: unknown): void {
  if (co.status !== RUNNING) return;
  const flags = co.flags;
  if ((flags & (F_HALT_REQUESTED | F_BODY_DONE)) !== 0) {
    noteCloseError(co, error);
  } else if ((flags & F_RUNNING) !== 0) {
    (co.x().crashes ??= []).push(error);
  } else {
    co.cancelPending();
    co.resume(THROW, error);
  }
}

function noteCloseError(co: Coroutine<any>, error: unknown): void {
  const x = co.x();
  if (!x.hasCloseError) {
    x.hasCloseError = true;
    x.closeError = error;
  }
}

/** The body returned (COMPLETED), threw (FAILED) or was returned by a halt: close the children, then settle. */
export function bodyFinished(co: Coroutine<any>, status: number, value: unknown): void {
  co.flags |= F_BODY_DONE;
  co.iter = null;
  co.effect = null;
  if ((co.flags & F_HALT_STARTED) !== 0) {
    if (status === FAILED) noteCloseError(co, value);
    status = HALTED;
    value = undefined;
  }
  if (co.firstChild === null) {
    finish(co, status, value);
    return;
  }
  const x = co.x();
  x.finalStatus = status;
  x.finalValue = value;
  closeChildren(co, C_SETTLE);
}

/** The children of `group` that have not settled, newest first (the order they are halted in). */
export function liveChildren(co: Coroutine<any>, group: Group): Coroutine<any>[] {
  const children: Coroutine<any>[] = [];
  for (let c: Coroutine<any> | null = co.firstChild; c !== null; c = c.nextSibling) {
    if (c.group === group) children.push(c);
  }
  return children;
}

/** Halt every live child, newest first; `then` runs once none is left. */
function closeChildren(co: Coroutine<any>, then: number): void {
  if (co.firstChild === null) {
    afterClose(co, then);
    return;
  }
  co.x().closing = then;
  const children: Coroutine<any>[] = [];
  for (let c: Coroutine<any> | null = co.firstChild; c !== null; c = c.nextSibling) children.push(c);
  for (let i = 0; i < children.length; i++) requestHalt(children[i]);
}

function afterClose(co: Coroutine<any>, then: number): void {
  if (then === C_RETURN) {
    if (co.iter === null) bodyFinished(co, HALTED, undefined);
    else co.resume(RETURN, undefined);
  } else {
    const x = co.x();
    finish(co, x.finalStatus, x.finalValue);
  }
}

function finish(co: Coroutine<any>, status: number, value: unknown): void {
  const x = co.extra;
  if (x !== null && x.hasCloseError && (x.forced || status !== FAILED)) {
    status = FAILED;
    value = x.closeError;
  }
  settle(co, status, value);
}

function settle(co: Coroutine<any>, status: number, value: unknown): void {
  co.status = status;
  co.result = value;
  const parent = co.parent;
  if (parent !== null) {
    const prev = co.prevSibling;
    const next = co.nextSibling;
    if (prev !== null) prev.nextSibling = next;
    else parent.firstChild = next;
    if (next !== null) next.prevSibling = prev;
    co.prevSibling = null;
    co.nextSibling = null;
  }
  const x = co.extra;
  const joined = notifyJoiners(co);
  if (co.group !== null) co.group.childSettled(co);
  else if (status === FAILED && !joined && parent !== null) childFailed(parent, value);
  if (parent !== null && parent.firstChild === null && parent.extra !== null && parent.extra.closing !== C_NONE) {
    const then = parent.extra.closing;
    parent.extra.closing = C_NONE;
    // C_RETURN resumes the parent (depth-bounded in resume); C_SETTLE settles it, which can
    // climb a deep tree, so it is bounded here.
    if (then === C_RETURN) afterClose(parent, C_RETURN);
    else if (nesting.depth >= MAX_DEPTH) queueMicrotask(() => nest(parent, C_SETTLE));
    else nest(parent, C_SETTLE);
  }
  if (x === null) return;
  if (x.owner !== null) x.owner.taskSettled(co);
  if (x.resolvePromise !== null) {
    if (status === COMPLETED) x.resolvePromise(value);
    else (x.rejectPromise as (e: unknown) => void)(status === FAILED ? value : new HaltedError(co.name));
    x.resolvePromise = null;
    x.rejectPromise = null;
  }
  const waiters = x.haltWaiters;
  if (waiters !== null) {
    x.haltWaiters = null;
    for (let i = 0; i < waiters.length; i++) waiters[i]();
  }
}

/** The promise `await task` sees: settled already, or settled by `settle()`. */
export function promiseOf<T>(co: Coroutine<T>): Promise<T> {
  const x = co.x();
  if (x.promise === null) {
    if (co.status === COMPLETED) x.promise = Promise.resolve(co.result as T);
    else if (co.status === FAILED) x.promise = Promise.reject(co.result);
    else if (co.status === HALTED) x.promise = Promise.reject(new HaltedError(co.name));
    else {
      x.promise = new Promise<T>((resolve, reject) => {
        x.resolvePromise = resolve;
        x.rejectPromise = reject;
      });
    }
  }
  return x.promise;
}
