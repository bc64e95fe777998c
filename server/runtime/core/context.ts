import type { Journal } from "../journal.ts";
import type { TickScheduler } from "../tick-scheduler.ts";

/** What a tree of coroutines shares: set once by `run()` or a `Scope`, inherited by children. */
export interface Context {
  readonly journal: Journal | null;
  readonly replay: boolean;
  readonly ticks: TickScheduler | null;
}

/** Told when one of its root coroutines settles (a Scope). */
export interface TaskOwner {
  taskSettled(task: { readonly state: string; readonly error: unknown; readonly name: string }): void;
}
