import { ALL, GroupEffect } from "./core/effect.ts";
import type { Operation } from "./operation.ts";

/**
 * Runs operations concurrently as children and returns their results in input order (not
 * completion order). Fail-fast: the first child to fail (or be halted) decides; the siblings
 * still running are halted (their finally blocks run) and then the error is thrown at the
 * `yield*`. Halting the caller halts every child. `all([])` returns `[]`.
 *
 * @param ops the operations to run as children
 * @returns an operation whose value is the children's values in input order
 * @throws the first child failure (a halted child: HaltedError); TypeError for a non-array
 *
 * @example
 * ```ts
 * const [a, b] = yield* all([fetchStats("p_1"), fetchStats("p_2")]);
 * ```
 */
export function all<T>(ops: readonly Operation<T>[]): Operation<T[]> {
  return new GroupEffect<T[]>(ALL, ops, 0);
}
