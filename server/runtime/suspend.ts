import { SuspendEffect } from "./core/effect.ts";
import type { Operation } from "./operation.ts";

/**
 * Waits forever, until the coroutine is halted (then its finally blocks run); it never returns
 * or throws on its own, though a failing unjoined child's error is still thrown at it. Useful for
 * a coroutine that only owns resources, or only reacts to its children.
 *
 * @returns an operation that never completes (its type is `never`)
 *
 * @example
 * ```ts
 * try { yield* suspend(); } finally { release(); }
 * ```
 */
export function suspend(): Operation<never> {
  return new SuspendEffect();
}
