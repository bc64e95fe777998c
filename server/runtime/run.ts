import { Coroutine } from "./core/coroutine.ts";
import type { Context } from "./core/context.ts";
import { Journaling } from "./core/journaling.ts";
import type { Journal } from "./journal.ts";
import type { Operation } from "./operation.ts";
import type { Task } from "./task.ts";
import type { TickScheduler } from "./tick-scheduler.ts";

export interface RunOptions {
  /** Coroutine name (default "main"): used in errors and as the journal key. */
  name?: string;
  /** Journal to record calls into, or to replay them from (with `replay: true`). */
  journal?: Journal;
  replay?: boolean;
  /** Tick scheduler for waitTicks()/nextTick() (inherited by every child). */
  ticks?: TickScheduler;
  /** Order key for tick scheduling (default: the name). */
  order?: string;
}

/**
 * Starts a root coroutine and returns its Task at once (the body runs synchronously up to its
 * first suspension). The task is awaitable from async code and can be halted.
 *
 * Errors: a failure of the body (or of a spawned child nobody joined) fails the task; awaiting it
 * rejects. No promise exists until someone awaits, so an unobserved failure never becomes an
 * unhandled rejection. A body that is not a function throws a TypeError here. Cancellation:
 * `task.halt()` halts children first, aborts in-flight call signals and runs finally blocks.
 *
 * @param body a function returning the operation to run (usually a generator function)
 * @param options name (journal key, default "main"), journal + replay, ticks, order
 * @returns the root Task: await it for the value (rejects with the body's error, or HaltedError)
 * @throws TypeError when `body` is not a function, or `replay` is set without a journal
 *
 * @example
 * ```ts
 * const n = await run(function* () {
 *   return yield* call("answer", async () => 42);
 * });
 * ```
 */
export function run<T>(body: () => Operation<T>, options: RunOptions = {}): Task<T> {
  const name = options.name ?? "main";
  if (typeof body !== "function") {
    throw new TypeError(`coroutine "${name}": run() expects a function returning an operation, got ${typeof body}`);
  }
  if (options.replay === true && options.journal === undefined) {
    throw new TypeError(`coroutine "${name}": run({ replay: true }) needs a journal`);
  }
  const task = new Coroutine<T>(null, contextOf(options), name, options.order);
  task.startBody(body);
  return task;
}

export function contextOf(options: { journal?: Journal; replay?: boolean; ticks?: TickScheduler }): Context {
  const journaling = options.journal === undefined ? null : new Journaling(options.journal, options.replay === true);
  return { journaling, ticks: options.ticks ?? null };
}
