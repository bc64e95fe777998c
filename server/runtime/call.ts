import { CallEffect } from "./core/effect.ts";
import type { Operation } from "./operation.ts";

/**
 * Calls a promise-returning function (I/O) and returns its result; a rejection (or a synchronous
 * throw of `fn`) is thrown at the `yield*`, where the coroutine can catch it. `name` identifies the call in the journal: record
 * mode appends the result, replay returns the recorded result without calling `fn`.
 *
 * Cancellation: if the coroutine is halted (or interrupted) while the call is in flight, the
 * signal passed to `fn` is aborted and the late result is ignored. For speed the AbortController
 * is only created when `fn` declares a parameter (`fn.length > 0`), so write `(signal) => ...`
 * when you use it. `fn` may also return a plain value.
 *
 * @example
 * ```ts
 * const stats = yield* call("stats", (signal) => client.get(id, { signal }));
 * ```
 */
export function call<T>(name: string, fn: (signal: AbortSignal) => PromiseLike<T> | T): Operation<T> {
  return new CallEffect<T>(name, fn);
}
