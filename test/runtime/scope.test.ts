import { describe, expect, it } from "vitest";
import { HaltedError, Scope, TickScheduler, call, nextTick, sleep, waitTicks } from "../../server/runtime/index.ts";
import { activeCount, delay } from "./helpers.ts";

describe("Scope (entity-owned)", () => {
  it("halt() stops every coroutine of the entity before the next tick; they never run again", () => {
    const ticks = new TickScheduler();
    const log: string[] = [];
    const npc = new Scope({ name: "npc_1", ticks });
    for (const role of ["ai", "regen"]) {
      npc.run(
        function* () {
          try {
            for (;;) {
              yield* nextTick();
              log.push(`${role}@${ticks.current}`);
            }
          } finally {
            log.push(`${role} cleanup`);
          }
        },
        { name: role },
      );
    }
    ticks.tick();
    expect(log).toEqual(["ai@1", "regen@1"]);
    void npc.halt(); // not awaited: cleanup is synchronous when finally blocks do not yield
    expect(log).toEqual(["ai@1", "regen@1", "regen cleanup", "ai cleanup"]);
    expect(npc.halted).toBe(true);
    expect(npc.size).toBe(0);
    expect(ticks.waiting).toBe(0);
    for (let i = 0; i < 3; i++) ticks.tick();
    expect(log).toHaveLength(4);
  });

  it("a coroutine halted while its body function runs never starts its generator", async () => {
    const scope = new Scope({ name: "p_quitter" });
    const log: string[] = [];
    const task = scope.run(() => {
      void scope.halt(); // e.g. the entity is removed by something the body function triggers
      return (function* () {
        log.push("generator ran");
        yield* sleep(1);
      })();
    });
    await expect(Promise.resolve(task)).rejects.toThrow(HaltedError);
    expect(task.state).toBe("halted");
    // time for a generator that should never start to run anyway
    await delay(5, undefined);
    expect(log).toEqual([]);
    expect(task.state).toBe("halted");
  });

  it("refuses to run coroutines once halted", async () => {
    const scope = new Scope({ name: "p_gone" });
    await scope.halt();
    expect(() => scope.run(function* () {})).toThrow(/scope "p_gone" is halted/);
  });

  it("halt() resolves after asynchronous cleanup and leaves no timers behind", async () => {
    const timers = activeCount("Timeout");
    const scope = new Scope({ name: "p_1" });
    const log: string[] = [];
    const task = scope.run(
      function* () {
        try {
          yield* sleep(10_000);
        } finally {
          yield* call("save", () => delay(10, 0));
          log.push("saved");
        }
      },
      { name: "loop" },
    );
    expect(task.name).toBe("p_1/loop");
    await scope.halt();
    expect(log).toEqual(["saved"]);
    expect(activeCount("Timeout")).toBeLessThanOrEqual(timers);
    await expect(task).rejects.toBeInstanceOf(HaltedError);
  });

  it("halt() resolves even when a finally block throws: the failure goes to onError, not to the caller", async () => {
    const errors: string[] = [];
    const scope = new Scope({ name: "p_4", onError: (e) => errors.push((e as Error).message) });
    function* save(): Generator<never, void> {
      throw new Error("cleanup bug");
    }
    scope.run(
      function* () {
        try {
          yield* sleep(10_000);
        } finally {
          yield* sleep(1);
          yield* save();
        }
      },
      { name: "saver" },
    );
    await expect(scope.halt()).resolves.toBeUndefined();
    expect(errors).toEqual(["cleanup bug"]);
    expect(scope.errors).toBe(1);
  });

  it("contains and counts a failing coroutine; the other coroutines keep running", () => {
    const ticks = new TickScheduler();
    const errors: string[] = [];
    const scope = new Scope({
      name: "p_2",
      ticks,
      onError: (e, t) => errors.push(`${t.name}: ${(e as Error).message}`),
    });
    let ticked = 0;
    scope.run(
      function* () {
        yield* nextTick();
        throw new Error("bad state");
      },
      { name: "buggy" },
    );
    scope.run(
      function* () {
        for (;;) {
          yield* nextTick();
          ticked++;
        }
      },
      { name: "ok" },
    );
    ticks.tick();
    ticks.tick();
    expect(errors).toEqual(["p_2/buggy: bad state"]);
    expect(scope.errors).toBe(1);
    expect(ticked).toBe(2);
    expect(scope.size).toBe(1);
  });

  it("an onError hook that throws is counted, not rethrown", async () => {
    const scope = new Scope({
      name: "p_3",
      onError: () => {
        throw new Error("hook bug");
      },
    });
    const task = scope.run(function* () {
      yield* call("fail", async () => {
        throw new Error("io");
      });
    });
    await expect(task).rejects.toThrow("io");
    expect([scope.errors, scope.hookErrors, (scope.lastHookError as Error).message]).toEqual([1, 1, "hook bug"]);
  });

  it("uses the entity id as the tick order key", () => {
    const ticks = new TickScheduler();
    const log: string[] = [];
    for (const id of ["p_b", "p_a", "npc_c"]) {
      new Scope({ name: id, ticks }).run(function* () {
        yield* waitTicks(2);
        log.push(id);
      });
    }
    ticks.tick();
    ticks.tick();
    expect(log).toEqual(["npc_c", "p_a", "p_b"]);
  });
});
