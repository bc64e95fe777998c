import { GroupEffect, RACE } from "./core/effect.ts";
import type { Operation } from "./operation.ts";

/**
 * Runs operations concurrently; the first to settle decides: its value is returned or its error
 * thrown, after every other child has been halted (their finally blocks have run). Halting the
 * caller halts every child. `race([])` is a TypeError (it could never settle).
 *
 * @param ops the operations to race (at least one)
 * @returns an operation whose value is the first child to settle's value
 * @throws the first settling child's error; TypeError for a non-array or an empty one
 *
 * @example
 * ```ts
 * const winner = yield* race([call("primary", get1), call("backup", get2)]);
 * ```
 */
export function race<T>(ops: readonly Operation<T>[]): Operation<T> {
  return new GroupEffect<T>(RACE, ops, 0);
}
