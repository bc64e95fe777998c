import type { Journaling } from "./journaling.ts";
import type { TickScheduler } from "../tick-scheduler.ts";

/** What a tree of coroutines shares: set once by `run()` or a `Scope`, inherited by children. */
export interface Context {
  /** record or replay calls; null: calls are not journaled */
  readonly journaling: Journaling | null;
  readonly ticks: TickScheduler | null;
}

/** Told when one of its root coroutines settles (a Scope). */
export interface TaskOwner {
  taskSettled(task: { readonly state: string; readonly error: unknown; readonly name: string }): void;
}
