import { SleepEffect } from "./core/effect.ts";
import type { Operation } from "./operation.ts";

/**
 * Waits `ms` milliseconds of real time. Halting the coroutine clears the timer. Use waitTicks()
 * for game time. A negative or non-numeric `ms` is a TypeError naming the coroutine.
 *
 * @param ms milliseconds, 0..2^31-1
 * @throws TypeError naming the coroutine for a bad `ms`
 *
 * @example
 * ```ts
 * yield* sleep(100);
 * ```
 */
export function sleep(ms: number): Operation<void> {
  return new SleepEffect(ms);
}
