import { getEventListeners } from "node:events";
import { describe, expect, it, vi } from "vitest";
import { HaltedError, call, run, sleep, spawn, suspend } from "../../server/runtime/index.ts";
import type { Operation } from "../../server/runtime/index.ts";
import { activeCount, delay } from "./helpers.ts";

describe("halting", () => {
  it("halts children first, runs every finally block, aborts in-flight signals", async () => {
    const log: string[] = [];
    const signals: AbortSignal[] = [];
    let listenersWhileInFlight = 0;
    function* leaf(name: string): Operation<void> {
      try {
        yield* call(`${name}-io`, (signal) => {
          signals.push(signal);
          const p = delay(10_000, undefined, signal);
          listenersWhileInFlight += getEventListeners(signal, "abort").length;
          return p;
        });
      } finally {
        log.push(`finally ${name}`);
      }
    }
    const task = run(function* () {
      try {
        yield* spawn(function* () {
          try {
            yield* spawn(() => leaf("grandchild"));
            yield* leaf("child");
          } finally {
            log.push("finally child-body");
          }
        });
        yield* suspend();
      } finally {
        log.push("finally root");
      }
    });
    await vi.waitFor(() => expect(signals).toHaveLength(2));
    expect(listenersWhileInFlight).toBe(2);
    await task.halt();
    expect(log).toEqual(["finally grandchild", "finally child", "finally child-body", "finally root"]);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(signals.map((s) => getEventListeners(s, "abort").length)).toEqual([0, 0]);
    expect(task.state).toBe("halted");
    await expect(task).rejects.toBeInstanceOf(HaltedError);
  });

  it("halts siblings newest first", async () => {
    const log: string[] = [];
    const task = run(function* () {
      for (const name of ["a", "b", "c"]) {
        yield* spawn(function* () {
          try {
            yield* suspend();
          } finally {
            log.push(name);
          }
        });
      }
      yield* suspend();
    });
    await task.halt();
    expect(log).toEqual(["c", "b", "a"]);
  });

  it("halt() waits for finally blocks that themselves yield", async () => {
    const log: string[] = [];
    const task = run(function* () {
      try {
        yield* suspend();
      } finally {
        yield* call("flush", () => delay(20, undefined));
        log.push("flushed");
      }
    });
    const halted = task.halt();
    expect(log).toEqual([]);
    await halted;
    expect(log).toEqual(["flushed"]);
  });

  it("a child never outlives its parent: it is halted when the parent returns", async () => {
    const log: string[] = [];
    const timersBefore = activeCount("Timeout");
    const value = await run(function* () {
      yield* spawn(function* () {
        try {
          yield* sleep(10_000);
          log.push("child woke");
        } finally {
          log.push("child finally");
        }
      });
      return "done";
    });
    expect(value).toBe("done");
    expect(log).toEqual(["child finally"]);
    expect(activeCount("Timeout")).toBeLessThanOrEqual(timersBefore);
  });

  it("joining a halted task throws HaltedError", async () => {
    const result = await run(function* () {
      const child = yield* spawn(() => suspend());
      yield* call("halt", () => child.halt());
      try {
        yield* child;
        return "joined";
      } catch (e) {
        return e instanceof HaltedError ? `halted: ${e.coroutine}` : "other";
      }
    });
    expect(result).toBe("halted: main.0");
  });

  it("a halted coroutine's late call result is ignored (it never resumes)", async () => {
    let resumed = false;
    const task = run(function* () {
      yield* call("ignores-signal", () => delay(20, 1));
      resumed = true;
    });
    await task.halt();
    // time for the ignored call (20 ms) to settle: it must not resume the halted coroutine
    await delay(40, 0);
    expect(resumed).toBe(false);
  });

  it("a coroutine can halt its own root; the halt applies at its next yield", async () => {
    const log: string[] = [];
    const root = run(function* () {
      try {
        yield* spawn(function* () {
          yield* sleep(5);
          void root.halt();
          log.push("after halt call");
          yield* sleep(1000);
          log.push("never");
        });
        yield* suspend();
      } finally {
        log.push("root finally");
      }
    });
    await expect(root).rejects.toBeInstanceOf(HaltedError);
    expect(log).toEqual(["after halt call", "root finally"]);
  });

  it("an error in a finally block during halt becomes the task's outcome; halt() still resolves", async () => {
    const task = run(function* () {
      try {
        yield* suspend();
      } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw new Error("cleanup failed");
      }
    });
    await expect(task.halt()).resolves.toBeUndefined();
    expect(task.state).toBe("failed");
    await expect(task).rejects.toThrow("cleanup failed");
  });
});
