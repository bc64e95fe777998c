import { ALL_SETTLED, GroupEffect } from "./core/effect.ts";
import type { Operation, Settled } from "./operation.ts";

/**
 * Runs operations concurrently and returns one `Settled` per operation, in input order: a
 * child's failure is contained in its entry (`{ ok: false, error }`) and never affects its
 * siblings or the caller. Halting the caller halts every child.
 *
 * @param ops the operations to run as children
 * @returns an operation whose value is one `Settled` per operation, in input order
 * @throws TypeError naming the coroutine for a non-array; never a child's error
 *
 * @example
 * ```ts
 * const results = yield* allSettled(ids.map((id) => fetchStats(id)));
 * for (const r of results) if (!r.ok) console.log("stale", r.error);
 * ```
 */
export function allSettled<T>(ops: readonly Operation<T>[]): Operation<Settled<T>[]> {
  return new GroupEffect<Settled<T>[]>(ALL_SETTLED, ops, 0);
}
