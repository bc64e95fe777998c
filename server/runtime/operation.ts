import type { Effect } from "./core/effect.ts";

/**
 * An operation: anything `yield*`-able that yields effects and returns a `T`. Generator
 * functions declared as `function* (): Operation<T>` produce operations; so does every effect
 * constructor (`call`, `all`, `sleep`, ...) and every `Task` (yielding a task joins it).
 *
 * Always consume operations with `yield*`, never plain `yield`: a plain `yield` of a non-effect
 * (a promise, a generator, a number) is rejected with a TypeError naming the coroutine.
 *
 * @example
 * ```ts
 * function* fetchTwice(): Operation<number> {
 *   const a = yield* call("a", async () => 1);
 *   const b = yield* call("b", async () => 2);
 *   return a + b;
 * }
 * ```
 */
export interface Operation<T> {
  [Symbol.iterator](): Iterator<Effect, T, any>;
}

/** Result of one `allSettled()` child. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
