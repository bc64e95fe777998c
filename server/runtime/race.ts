import { GroupEffect, RACE } from "./core/effect.ts";
import type { Operation } from "./operation.ts";

/**
 * Runs operations concurrently; the first to settle decides: its value is returned or its error
 * thrown, after every other child has been halted (their finally blocks have run). Halting the
 * caller halts every child. `race([])` is a TypeError (it could never settle).
 *
 * @example
 * ```ts
 * const winner = yield* race([call("primary", get1), call("backup", get2)]);
 * ```
 */
export function race<T>(ops: readonly Operation<T>[]): Operation<T> {
  return new GroupEffect<T>(RACE, ops, 0);
}
