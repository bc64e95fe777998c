import { CALL_HANDLER, UNTIL_HANDLER } from "./calls.ts";
import { CALL, GROUP, SLEEP, SPAWN, SUSPEND, TICKS, UNTIL, checkSleep, checkTicks } from "./effect.ts";
import type { Effect, SleepEffect, SpawnEffect, TicksEffect } from "./effect.ts";
import type { Coroutine } from "./coroutine.ts";
import { GROUP_HANDLER } from "./group.ts";
import { NEXT, THROW } from "./state.ts";
import { misuse } from "../errors.ts";
import type { TickEntry } from "../tick-scheduler.ts";

/**
 * What a suspended coroutine waits for, and how to stop waiting: `cancel` undoes what the
 * suspension set up (clears its timer, aborts its call...) when the coroutine is interrupted
 * (halted, or a crashing child's error thrown in) before the wait ends. `ref` is what the
 * suspension stored (a timer, a tick entry, an AbortController...).
 */
export interface Waiting {
  cancel(co: Coroutine<any>, ref: any): void;
}

/**
 * How the trampoline carries out one kind of effect: `start` runs when a coroutine yields it and
 * either resumes the coroutine at once or suspends it with this handler as what it waits for;
 * `cancel` is that suspension's teardown. Setup and teardown side by side, so a new effect is a
 * class in effect.ts and a handler registered in HANDLERS.
 */
export interface EffectHandler<E extends Effect = any> extends Waiting {
  start(co: Coroutine<any>, effect: E): void;
}

/** `spawn()` yielded with a plain `yield` (a `yield*` completes in `spawnNow()`): never suspends. */
const SPAWN_HANDLER: EffectHandler<SpawnEffect> = {
  start(co, effect) {
    let child: Coroutine<unknown>;
    try {
      child = co.spawnNow(effect);
    } catch (error) {
      co.resume(THROW, error);
      return;
    }
    co.resume(NEXT, child);
  },
  cancel() {},
};

/** `sleep(ms)`: a real timer, cleared on cancel. */
const SLEEP_HANDLER: EffectHandler<SleepEffect> = {
  start(co, sleep) {
    if (co.rejects(checkSleep(sleep))) return;
    const seq = co.suspend(SLEEP_HANDLER, null);
    co.pendingRef = setTimeout(() => co.wake(seq, NEXT, undefined), sleep.ms);
  },
  cancel(_co, timer: ReturnType<typeof setTimeout>) {
    clearTimeout(timer);
  },
};

/** `waitTicks(n)` / `nextTick()`: an entry in the TickScheduler, which calls `tickDue()`; removed on cancel. */
export const TICKS_HANDLER: EffectHandler<TicksEffect> = {
  start(co, wait) {
    const ticks = co.ctx.ticks;
    if (ticks === null) {
      co.resume(THROW, misuse(co.name, `${wait.api}() needs a TickScheduler: pass { ticks } to run() or to the Scope`));
    } else if (co.rejects(checkTicks(wait))) {
      return;
    } else if (wait.n === 0) {
      co.resume(NEXT, undefined);
    } else {
      co.suspend(TICKS_HANDLER, null);
      co.pendingRef = ticks.add(co, co.order, co.id, wait.n);
    }
  },
  cancel(co, entry: TickEntry) {
    co.ctx.ticks?.cancel(entry);
  },
};

/** `suspend()`: waits until halted; nothing to tear down. */
const SUSPEND_HANDLER: EffectHandler = {
  start(co) {
    co.suspend(SUSPEND_HANDLER, null);
  },
  cancel() {},
};

/** The handler of each effect kind, indexed by the kind (see effect.ts); undefined for no kind. */
export const HANDLERS: readonly (EffectHandler | undefined)[] = byKind([
  [CALL, CALL_HANDLER],
  [UNTIL, UNTIL_HANDLER],
  [SPAWN, SPAWN_HANDLER],
  [GROUP, GROUP_HANDLER],
  [SLEEP, SLEEP_HANDLER],
  [TICKS, TICKS_HANDLER],
  [SUSPEND, SUSPEND_HANDLER],
]);

function byKind(handlers: [number, EffectHandler][]): (EffectHandler | undefined)[] {
  // Filled, not holey: a packed array keeps the dispatch load on V8's fast path.
  const table = new Array<EffectHandler | undefined>(Math.max(...handlers.map(([kind]) => kind)) + 1).fill(undefined);
  for (const [kind, handler] of handlers) table[kind] = handler;
  return table;
}
