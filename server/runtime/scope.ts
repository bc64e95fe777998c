import { Coroutine } from "./core/coroutine.ts";
import type { Context, TaskOwner } from "./core/context.ts";
import { contextOf } from "./run.ts";
import type { Journal } from "./journal.ts";
import type { Operation } from "./operation.ts";
import type { Task } from "./task.ts";
import type { TickScheduler } from "./tick-scheduler.ts";

export interface ScopeOptions {
  /** Owner name, e.g. the entity id; coroutine names are `<name>/<task name>`. */
  name: string;
  /** Order key for tick scheduling (default: the name). */
  order?: string;
  ticks?: TickScheduler;
  journal?: Journal;
  replay?: boolean;
  /** Called when one of the scope's coroutines fails (it is counted in `errors` either way). */
  onError?: (error: unknown, task: Task<unknown>) => void;
}

/**
 * Scope: the coroutines owned by one entity. `halt()` (the entity died or left) halts every one
 * of them synchronously as far as their finally blocks allow: their tick waits are removed at
 * once, so none of them runs on a later tick, and `run()` refuses new ones.
 *
 * Errors: each coroutine's failure is contained to it; it is counted (`errors`) and passed to
 * `onError`. Running on a halted scope throws an Error. `halt()` never rejects.
 *
 * @example
 * ```ts
 * const scope = new Scope({ name: "npc_1", ticks });
 * scope.run(function* () { for (;;) { yield* waitTicks(3); attack(); } }, { name: "ai" });
 * await scope.halt(); // npc_1 died: its AI never runs again
 * ```
 */
export class Scope implements TaskOwner {
  readonly name: string;
  readonly order: string;
  /** Number of this scope's coroutines that failed. */
  errors = 0;
  /** Errors thrown by `onError` itself (counted, never rethrown). */
  hookErrors = 0;
  lastHookError: unknown = undefined;
  private readonly ctx: Context;
  private readonly onError: ((error: unknown, task: Task<unknown>) => void) | undefined;
  private readonly tasks = new Set<Coroutine<any>>();
  private counter = 0;
  private isHalted = false;

  /** @throws TypeError without `{ name: string }`, or with `replay` and no journal */
  constructor(options: ScopeOptions) {
    if (options === null || typeof options !== "object" || typeof options.name !== "string") {
      throw new TypeError("new Scope(options) needs { name: string }");
    }
    if (options.replay === true && options.journal === undefined) {
      throw new TypeError(`scope "${options.name}": replay needs a journal`);
    }
    this.name = options.name;
    this.order = options.order ?? options.name;
    this.ctx = contextOf(options);
    this.onError = options.onError;
  }

  get halted(): boolean {
    return this.isHalted;
  }

  /** Coroutines of this scope still running. */
  get size(): number {
    return this.tasks.size;
  }

  /**
   * Starts a coroutine owned by this scope, named `<scope>/<name>` (default: a counter).
   * @param body a function returning the operation to run
   * @param options name and tick order key (default: the scope's order)
   * @returns its Task; its failure is counted in `errors` and passed to `onError`, never thrown
   * @throws Error when the scope is halted; TypeError when `body` is not a function
   */
  run<T>(body: () => Operation<T>, options?: { name?: string; order?: string }): Task<T> {
    const label = `${this.name}/${options?.name ?? this.counter++}`;
    if (this.isHalted) throw new Error(`scope "${this.name}" is halted: cannot run coroutine "${label}"`);
    if (typeof body !== "function") {
      throw new TypeError(
        `coroutine "${label}": Scope.run() expects a function returning an operation, got ${typeof body}`,
      );
    }
    const task = new Coroutine<T>(null, this.ctx, label, options?.order ?? this.order);
    task.owner = this;
    this.tasks.add(task);
    task.startBody(body);
    return task;
  }

  /**
   * Halts every coroutine of the scope (last started first) and refuses new ones.
   * @returns a promise that resolves once all have settled (finally blocks run); never rejects
   */
  halt(): Promise<void> {
    this.isHalted = true;
    if (this.tasks.size === 0) return Promise.resolve();
    const tasks = Array.from(this.tasks);
    const waits: Promise<void>[] = [];
    for (let i = tasks.length - 1; i >= 0; i--) waits.push(tasks[i].halt());
    return Promise.all(waits).then(() => undefined);
  }

  taskSettled(task: Coroutine<any>): void {
    this.tasks.delete(task);
    if (task.state !== "failed") return;
    this.errors++;
    if (this.onError === undefined) return;
    try {
      this.onError(task.error, task);
    } catch (error) {
      // A throwing hook must not escape into the promise callback that settled the task
      // (that would be an unhandled rejection); count it and keep the first one visible.
      this.hookErrors++;
      this.lastHookError ??= error;
    }
  }
}
