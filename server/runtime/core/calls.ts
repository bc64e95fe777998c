import { checkCall, checkUntil, isThenable } from "./effect.ts";
import type { CallEffect, UntilEffect } from "./effect.ts";
import type { Coroutine } from "./coroutine.ts";
import type { EffectHandler, Waiting } from "./effect-handlers.ts";
import type { Journaling } from "./journaling.ts";
import { failWith } from "./lifecycle.ts";
import { NEXT, THROW } from "./state.ts";
import { NonDeterminismError, misuse } from "../errors.ts";
import { replayedError } from "../journal.ts";

/**
 * `call(name, fn)` and `until(promise)`: a coroutine waiting for a promise. A call is journaled
 * when the run has a journal (journaling.ts): recorded as it starts and settled when the
 * coroutine consumes its outcome, or, in replay, answered from the journal without running `fn`.
 */

/** A call: `ref` is the AbortController its `fn` was given (null when `fn` takes no signal). */
export const CALL_HANDLER: EffectHandler<CallEffect> = {
  start(co, effect) {
    if (co.rejects(checkCall(effect))) return;
    const journaling = co.ctx.journaling;
    let position = -1;
    if (journaling !== null) {
      const step = co.x().step++;
      if (journaling.replaying) {
        replayCall(co, journaling, step, effect.name);
        return;
      }
      position = journaling.begin(co.name, step, effect.name);
      if (position < 0) {
        co.resume(
          THROW,
          misuse(co.name, `step ${step} is already in the journal: coroutines sharing a journal need distinct names`),
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
      awaitPromise(co, result, CALL_HANDLER, controller, position);
    } else {
      if (position >= 0) (journaling as Journaling).settle(position, mode === NEXT, result);
      co.resume(mode, result);
    }
  },
  // A journaled call stays journaled as cut off (see journaling.ts).
  cancel(_co, controller: AbortController | null) {
    if (controller !== null) controller.abort();
  },
};

/** `until(promise)`: not journaled, and a promise cannot be cancelled (its late outcome is ignored). */
export const UNTIL_HANDLER: EffectHandler<UntilEffect> = {
  start(co, until) {
    if (co.rejects(checkUntil(until))) return;
    awaitPromise(co, until.promise, UNTIL_HANDLER, null, -1);
  },
  cancel() {},
};

/** A call cut off when it was recorded, or a replay that diverged: waits to be halted. */
const CUT_OFF: Waiting = { cancel() {} };

/**
 * Suspends until `promise` settles. `position`: the call's journal entry in record mode, settled
 * when the coroutine consumes the outcome (a late outcome after a halt is never journaled).
 */
function awaitPromise(
  co: Coroutine<any>,
  promise: PromiseLike<unknown>,
  waiting: Waiting,
  ref: unknown,
  position: number,
): void {
  const seq = co.suspend(waiting, ref);
  try {
    promise.then(
      (value) => settled(co, seq, position, NEXT, value),
      (error) => settled(co, seq, position, THROW, error),
    );
  } catch (error) {
    settled(co, seq, position, THROW, error);
  }
}

function settled(co: Coroutine<any>, seq: number, position: number, mode: number, value: unknown): void {
  if (!co.claim(seq)) return;
  if (position >= 0) (co.ctx.journaling as Journaling).settle(position, mode === NEXT, value);
  co.resume(mode, value);
}

/** Replay mode: the recorded outcome of the call at this step, no I/O. */
function replayCall(co: Coroutine<any>, journaling: Journaling, step: number, name: string): void {
  const entry = journaling.replay(co.name, step, name);
  if (entry instanceof NonDeterminismError) diverge(co, entry);
  else if (entry.ok) co.resume(NEXT, entry.value);
  else if (entry.halted === true)
    co.suspend(CUT_OFF, null); // cut off when recorded: wait to be cut off again
  else co.resume(THROW, replayedError(entry.error));
}

/** Replay diverged: the whole run stops with the error; the coroutine cannot catch it. */
function diverge(co: Coroutine<any>, error: NonDeterminismError): void {
  co.suspend(CUT_OFF, null);
  let root: Coroutine<any> = co;
  while (root.parent !== null) root = root.parent;
  failWith(root, error);
}
