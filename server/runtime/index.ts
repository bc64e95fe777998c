/**
 * Skirmish coroutine runtime: generator-based coroutines with structured concurrency, tick
 * scheduling and journal/replay. Dependency-free; knows nothing of the game.
 */
export { run } from "./run.ts";
export type { RunOptions } from "./run.ts";
export type { Operation, Settled } from "./operation.ts";
export type { Task, TaskState } from "./task.ts";
export { call } from "./call.ts";
export { until } from "./until.ts";
export { all } from "./all.ts";
export { allSettled } from "./all-settled.ts";
export { race } from "./race.ts";
export { timeout } from "./timeout.ts";
export { spawn } from "./spawn.ts";
export type { SpawnOptions } from "./spawn.ts";
export { sleep } from "./sleep.ts";
export { suspend } from "./suspend.ts";
export { waitTicks, nextTick } from "./wait-ticks.ts";
export { TickScheduler } from "./tick-scheduler.ts";
export { Scope } from "./scope.ts";
export type { ScopeOptions } from "./scope.ts";
export { Journal } from "./journal.ts";
export type { JournalEntry, JournaledError } from "./journal.ts";
export { TimeoutError, HaltedError, NonDeterminismError } from "./errors.ts";
export { compareCodePoints } from "./core/order.ts";
