import { UntilEffect } from "./core/effect.ts";
import type { Operation } from "./operation.ts";

/**
 * Waits for a promise that already exists and returns its value (a rejection is thrown at the
 * `yield*`). Not journaled and not cancellable: halting the coroutine only stops waiting. Use
 * `call()` for I/O that should be cancelled or replayed. A non-promise is a TypeError naming the
 * coroutine.
 *
 * @param promise an existing promise (or thenable)
 * @returns an operation whose value is the promise's
 * @throws the promise's rejection; a TypeError naming the coroutine for a non-promise
 *
 * @example
 * ```ts
 * const body = yield* until(response.text());
 * ```
 */
export function until<T>(promise: PromiseLike<T>): Operation<T> {
  return new UntilEffect<T>(promise);
}
