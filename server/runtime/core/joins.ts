import type { Coroutine } from "./coroutine.ts";
import type { Waiting } from "./effect-handlers.ts";
import { COMPLETED, FAILED, NEXT, RUNNING, THROW } from "./state.ts";
import { HaltedError, misuse } from "../errors.ts";

/**
 * Joins: `yield* task` from another coroutine. A settled task is joined inside its own `next()`
 * (see joinNext in effect.ts) without suspending; a running one suspends the joiner until it
 * settles. A task keeps its first joiner in a field and any others in its Extra.
 */

/** Suspended on a running task (`ref`); on cancel the joiner leaves the task's joiners. */
const JOIN: Waiting = {
  cancel(co, target: Coroutine<any>) {
    removeJoiner(target, co);
  },
};

/** `co` joins `target` (yielded by `yield* target`). */
export function join(co: Coroutine<any>, target: Coroutine<any>): void {
  if (target.status !== RUNNING) {
    deliverJoin(co, target);
  } else if (target === co) {
    co.resume(THROW, misuse(co.name, "a coroutine cannot join itself"));
  } else {
    co.suspend(JOIN, target);
    if (target.joiner === null) target.joiner = co;
    else (target.x().joiners ??= []).push(co);
  }
}

/** The outcome of a settled coroutine, for a join: its value, or its error thrown. */
export function joinNow<T>(target: Coroutine<T>): T {
  if (target.status === COMPLETED) return target.result;
  if (target.status === FAILED) throw target.result;
  throw new HaltedError(target.name);
}

/** `target` has settled: resumes its joiners. False when nobody joined it. */
export function notifyJoiners(target: Coroutine<any>): boolean {
  const joiner = target.joiner;
  if (joiner === null) return false;
  const x = target.extra;
  target.joiner = null;
  joined(joiner, target);
  const joiners = x === null ? null : x.joiners;
  if (joiners !== null) {
    (x as NonNullable<typeof x>).joiners = null;
    for (let i = 0; i < joiners.length; i++) joined(joiners[i], target);
  }
  return true;
}

function deliverJoin(co: Coroutine<any>, target: Coroutine<any>): void {
  if (target.status === COMPLETED) co.resume(NEXT, target.result);
  else if (target.status === FAILED) co.resume(THROW, target.result);
  else co.resume(THROW, new HaltedError(target.name));
}

function joined(co: Coroutine<any>, target: Coroutine<any>): void {
  if (co.claimWait(JOIN, target)) deliverJoin(co, target);
}

function removeJoiner(target: Coroutine<any>, joiner: Coroutine<any>): void {
  const joiners = target.extra === null ? null : target.extra.joiners;
  if (target.joiner === joiner) {
    target.joiner = joiners !== null && joiners.length > 0 ? (joiners.shift() as Coroutine<any>) : null;
  } else if (joiners !== null) {
    const i = joiners.indexOf(joiner);
    if (i >= 0) joiners.splice(i, 1);
  }
}
