import { TicksEffect } from "./core/effect.ts";
import type { Operation } from "./operation.ts";

/**
 * Waits `n` ticks of the TickScheduler in scope (given to run() or the Scope). Waiters resume
 * inside `tick()` in a fixed order: order key (entity id), then spawn sequence. `n = 0` returns
 * at once. Halting removes the wait from the scheduler. No scheduler in scope, or an `n` that is
 * not a non-negative integer, is a TypeError naming the coroutine.
 *
 * @param n ticks to wait, a non-negative integer (0 returns at once)
 * @throws TypeError naming the coroutine without a TickScheduler in scope or for a bad `n`
 *
 * @example
 * ```ts
 * yield* waitTicks(3); // act on the third tick from now
 * ```
 */
export function waitTicks(n: number): Operation<void> {
  return new TicksEffect(n, "waitTicks");
}

/** Waits for the next `tick()` of the scheduler in scope (same as `waitTicks(1)`). */
export function nextTick(): Operation<void> {
  return new TicksEffect(1, "nextTick");
}
