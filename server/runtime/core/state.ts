import type { TaskOwner } from "./context.ts";
import type { Coroutine } from "./coroutine.ts";
import type { TaskState } from "../task.ts";

/** The state the trampoline (coroutine.ts) and its collaborators in core/ share. */

// Coroutine status.
export const RUNNING = 0;
export const COMPLETED = 1;
export const FAILED = 2;
export const HALTED = 3;
export const STATE_NAMES: TaskState[] = ["running", "completed", "failed", "halted"];

// How to step the generator.
export const NEXT = 0;
export const THROW = 1;
export const RETURN = 2;

// Flag bits. One small integer instead of five booleans keeps coroutines small (memory is
// what a hundred thousand in-flight coroutines cost most).
export const F_RUNNING = 1; // on the stack, inside drive()
export const F_HALT_REQUESTED = 2;
export const F_HALT_STARTED = 4;
export const F_BODY_DONE = 8;
export const F_HAS_NEXT = 16; // a result arrived while running; drive() continues with it
export const MODE_SHIFT = 5; // ...with this mode (NEXT, THROW or RETURN) in bits 5-6, the value in `result`
export const F_MODE = 3 << MODE_SHIFT;
// `effect` was handed out by its own next() (a `yield*`), in this step or, between steps, the last one.
export const F_HANDED = 128;
// Resuming from the `yield*` of `effect`: its next() finishes the delegation (see effect.ts).
export const F_RESUMING = 256;

/**
 * Resuming is synchronous, so a coroutine finishing can resume the one joining it, which can
 * finish and resume the next...: a chain of 100 000 joins would overflow the stack. Past this
 * many nested steps a resume is postponed to a microtask instead (like an await would be).
 */
export const MAX_DEPTH = 100;
/** Nested steps on the stack now: drive() and the halt and close continuations count them. */
export const nesting = { depth: 0 };

// What to do once all children have settled.
export const C_NONE = 0;
export const C_RETURN = 1;
export const C_SETTLE = 2;

/** State most coroutines never need (scope ownership, closing, promises): allocated on demand. */
export class Extra {
  order: string | null = null;
  nextChildIndex = 0;
  step = 0; // journal step: the number of journaled calls made
  owner: TaskOwner | null = null;
  closing = C_NONE;
  finalStatus = RUNNING;
  finalValue: unknown = undefined;
  hasCloseError = false;
  forced = false;
  closeError: unknown = undefined;
  crashes: unknown[] | null = null;
  joiners: Coroutine<any>[] | null = null;
  promise: Promise<any> | null = null;
  resolvePromise: ((value: any) => void) | null = null;
  rejectPromise: ((error: unknown) => void) | null = null;
  haltWaiters: (() => void)[] | null = null;
}
