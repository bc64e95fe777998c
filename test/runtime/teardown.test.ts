import { getEventListeners } from "node:events";
import { describe, expect, it, vi } from "vitest";
import {
  Scope,
  TickScheduler,
  all,
  call,
  race,
  run,
  sleep,
  spawn,
  suspend,
  timeout,
  waitTicks,
} from "../../server/runtime/index.ts";
import type { Operation } from "../../server/runtime/index.ts";
import { activeCount, delay } from "./helpers.ts";

describe("nothing is left pending after teardown", () => {
  it("halting a busy tree leaves no timers, signal listeners or tick waiters", async () => {
    await delay(1, 0); // settle timers of earlier tests in this file
    const timers = activeCount("Timeout");
    const ticks = new TickScheduler();
    const signals: AbortSignal[] = [];
    const io = (name: string) =>
      call(name, (signal) => {
        signals.push(signal);
        return delay(60_000, name, signal);
      });
    function* entity(id: string): Operation<void> {
      yield* spawn(() => sleep(60_000));
      yield* spawn(function* () {
        for (;;) yield* waitTicks(1);
      });
      yield* spawn(() => race<unknown>([io(`${id}-a`), sleep(60_000)]));
      yield* spawn(() => timeout(60_000, io(`${id}-b`)));
      yield* all<unknown>([io(`${id}-c`), sleep(60_000)]);
    }
    const scopes = ["p_1", "p_2", "p_3"].map((id) => {
      const scope = new Scope({ name: id, ticks });
      scope.run(() => entity(id), { name: "main" });
      return scope;
    });
    const root = run(function* () {
      yield* spawn(() => sleep(60_000));
      yield* suspend();
    });
    await vi.waitFor(() => expect(signals).toHaveLength(9));
    expect(activeCount("Timeout")).toBeGreaterThanOrEqual(timers + 16);
    expect(ticks.waiting).toBe(3);
    expect(signals.every((s) => getEventListeners(s, "abort").length === 1)).toBe(true);

    await Promise.all([...scopes.map((s) => s.halt()), root.halt()]);

    expect(activeCount("Timeout")).toBeLessThanOrEqual(timers);
    expect(ticks.waiting).toBe(0);
    expect(signals.every((s) => s.aborted && getEventListeners(s, "abort").length === 0)).toBe(true);
    expect(scopes.every((s) => s.size === 0)).toBe(true);
  });

  it("a completed run leaves no timers behind (timeouts and sleeps are cleared)", async () => {
    await delay(1, 0);
    const timers = activeCount("Timeout");
    await run(function* () {
      yield* timeout(
        60_000,
        call("fast", () => delay(2, 1)),
      );
      yield* race([sleep(60_000), sleep(1)]);
      yield* spawn(() => sleep(60_000)); // halted when main returns
    });
    expect(activeCount("Timeout")).toBeLessThanOrEqual(timers);
  });
});
