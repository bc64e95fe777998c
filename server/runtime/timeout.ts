import { GroupEffect, TIMEOUT } from "./core/effect.ts";
import type { Operation } from "./operation.ts";

/**
 * Runs `op` as a child with a deadline of `ms` milliseconds. If it settles in time its value is
 * returned (or its error thrown). Otherwise it is halted (signals aborted, finally blocks run)
 * and then `TimeoutError` is thrown at the `yield*`. The timer is cleared whichever way it ends,
 * including when the caller is halted (which halts `op`). An `ms` outside 0..2^31-1 is a
 * TypeError naming the coroutine.
 *
 * @param ms the deadline, 0..2^31-1 milliseconds
 * @param op the operation to bound
 * @returns an operation whose value is `op`'s
 * @throws TimeoutError (after `op` was halted) when the deadline passes first; `op`'s own error;
 *   TypeError naming the coroutine for a bad `ms`
 *
 * @example
 * ```ts
 * try { return yield* timeout(200, call("stats", (s) => client.get(id, { signal: s }))); }
 * catch (e) { if (e instanceof TimeoutError) return lastKnownGood; throw e; }
 * ```
 */
export function timeout<T>(ms: number, op: Operation<T>): Operation<T> {
  return new GroupEffect<T>(TIMEOUT, [op], ms);
}
