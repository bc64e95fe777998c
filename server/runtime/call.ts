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
 * @param name the journal key of this call (the same call must have the same name on replay)
 * @param fn the I/O: gets an AbortSignal aborted if the coroutine is halted while it runs
 * @returns an operation whose value is what `fn`'s promise resolves to
 * @throws whatever `fn` throws or rejects with; in replay, the recorded error (name, message,
 *   code); a TypeError naming the coroutine for a non-string name or non-function fn
 *
 * @example
 * ```ts
 * const stats = yield* call("stats", (signal) => client.get(id, { signal }));
 * ```
 */
export function call<T>(name: string, fn: (signal: AbortSignal) => PromiseLike<T> | T): Operation<T> {
  return new CallEffect<T>(name, fn);
}
