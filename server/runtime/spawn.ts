import { SpawnEffect } from "./core/effect.ts";
import type { Operation } from "./operation.ts";
import type { Task } from "./task.ts";

export interface SpawnOptions {
  /** Coroutine name (default `<parent>.<n>`); the journal key, so keep it unique per journal. */
  name?: string;
  /** Order key for tick scheduling (default: inherited from the parent). */
  order?: string;
}

/**
 * Starts a child coroutine (it runs synchronously up to its first suspension) and returns its
 * Task. The child never outlives its parent: when the parent finishes or is halted, children
 * still running are halted first. Join with `yield* task` (value, or its error thrown).
 *
 * Errors: if the child fails and nobody is joining it at that moment, the error is thrown into
 * the parent at its current `yield*` (catchable there). To contain failures, use allSettled().
 * Joining a task that was halted (`task.halt()`, or its parent finishing) throws `HaltedError`.
 *
 * @param op a function returning the child's operation
 * @param options name (journal key, default `<parent>.<n>`) and tick order key
 * @returns an operation whose value is the child's Task (join it with `yield* task`)
 * @throws TypeError naming the coroutine when `op` is not a function
 *
 * @example
 * ```ts
 * const t = yield* spawn(() => call("stats", () => fetchStats(id)), { name: id });
 * const stats = yield* t;
 * ```
 */
export function spawn<T>(op: () => Operation<T>, options?: SpawnOptions): Operation<Task<T>> {
  return new SpawnEffect<Task<T>>(op, options);
}
