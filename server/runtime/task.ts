import type { Operation } from "./operation.ts";

/**
 * A running coroutine, as seen from outside. Awaitable (it is a `PromiseLike`) and
 * `yield*`-able (joining it from another coroutine returns its value or throws its error).
 *
 * - Awaiting / joining a completed task gives its value; a failed task throws its error; a
 *   halted task throws `HaltedError`.
 * - `halt()` aborts the signal of its in-flight `call` (and clears its timer or tick wait), halts
 *   its children (last spawned first) and waits for them, then runs its own `finally` blocks, and
 *   resolves once all of that is done. It never rejects:
 *   an error thrown by a `finally` block becomes the task's outcome (seen by await / join).
 *
 * @example
 * ```ts
 * const task = run(function* () { yield* sleep(10); return 42; });
 * console.log(await task); // 42
 * ```
 */
export interface Task<T> extends PromiseLike<T>, Operation<T> {
  readonly name: string;
  readonly state: TaskState;
  /** The error of a failed task, else undefined. */
  readonly error: unknown;
  /** @returns a promise that resolves once the task has settled; never rejects */
  halt(): Promise<void>;
}

export type TaskState = "running" | "completed" | "failed" | "halted";
