import { describe, expect, it } from "vitest";
import {
  Scope,
  TickScheduler,
  compareCodePoints,
  nextTick,
  run,
  spawn,
  suspend,
  waitTicks,
} from "../../server/runtime/index.ts";
import { activeCount } from "./helpers.ts";

describe("TickScheduler", () => {
  it("waitTicks(n) resumes on the n-th tick, with no real timer", () => {
    const ticks = new TickScheduler();
    const timers = activeCount("Timeout");
    const at: number[] = [];
    run(
      function* () {
        yield* waitTicks(3);
        at.push(ticks.current);
        yield* nextTick();
        at.push(ticks.current);
        yield* waitTicks(0);
        at.push(ticks.current);
      },
      { ticks },
    );
    expect(activeCount("Timeout")).toBeLessThanOrEqual(timers);
    for (let i = 0; i < 5; i++) ticks.tick();
    expect(at).toEqual([3, 4, 4]);
  });

  it("resumes waiters by order key, not registration order, even when they re-wait in another order", () => {
    const ticks = new TickScheduler();
    const log: string[] = [];
    // Registered c, a, b; each re-waits a different number of ticks so registration order changes.
    const waits: Record<string, number[]> = { c: [1, 1, 2], a: [2, 1, 1], b: [1, 2, 1] };
    for (const id of ["c", "a", "b"]) {
      run(
        function* () {
          for (const n of waits[id]) {
            yield* waitTicks(n);
            log.push(`${ticks.current}:${id}`);
          }
        },
        { ticks, name: id },
      );
    }
    for (let i = 0; i < 4; i++) ticks.tick();
    expect(log).toEqual(["1:b", "1:c", "2:a", "2:c", "3:a", "3:b", "4:a", "4:b", "4:c"]);
  });

  it("breaks ties between equal order keys by spawn sequence", () => {
    const ticks = new TickScheduler();
    const log: string[] = [];
    run(
      function* () {
        // "first" registers for tick 2 only at tick 1, after "second" registered for it at tick 0.
        yield* spawn(
          function* () {
            yield* nextTick();
            yield* nextTick();
            log.push("first");
          },
          { order: "p_1" },
        );
        yield* spawn(
          function* () {
            yield* waitTicks(2);
            log.push("second");
          },
          { order: "p_1" },
        );
        yield* suspend();
      },
      { ticks, order: "p_1" },
    );
    ticks.tick();
    ticks.tick();
    expect(log).toEqual(["first", "second"]);
  });

  it("orders keys by Unicode code point, not UTF-16 code unit", () => {
    const astral = "\u{1F600}"; // surrogate pair 0xD83D 0xDE00
    const high = "\uFFFD";
    expect(astral < high).toBe(true); // what plain JS comparison says
    expect(compareCodePoints(high, astral)).toBeLessThan(0); // U+FFFD < U+1F600
    const ticks = new TickScheduler();
    const log: string[] = [];
    for (const id of [astral, high, "b", "a"]) {
      run(
        function* () {
          yield* nextTick();
          log.push(id);
        },
        { ticks, order: id },
      );
    }
    ticks.tick();
    expect(log).toEqual(["a", "b", high, astral]);
  });

  it("a coroutine halted during a tick by one resumed earlier in it does not run", () => {
    const ticks = new TickScheduler();
    const log: string[] = [];
    const victim = new Scope({ name: "b", ticks });
    victim.run(function* () {
      yield* nextTick();
      log.push("b ran");
    });
    const killer = new Scope({ name: "a", ticks });
    killer.run(function* () {
      yield* nextTick();
      log.push("a kills b");
      void victim.halt();
    });
    ticks.tick();
    expect(log).toEqual(["a kills b"]);
    expect(ticks.waiting).toBe(0);
  });

  it("tick() from inside a resumed coroutine is an error, and the scheduler stays usable", () => {
    const ticks = new TickScheduler();
    let error: unknown;
    run(
      function* () {
        yield* nextTick();
        try {
          ticks.tick();
        } catch (e) {
          error = e;
        }
        yield* nextTick();
      },
      { ticks },
    );
    ticks.tick();
    expect(String(error)).toMatch(/re-entrantly/);
    expect(ticks.waiting).toBe(1);
    ticks.tick();
    expect(ticks.waiting).toBe(0);
  });

  it("halting a waiter removes it from the scheduler", async () => {
    const ticks = new TickScheduler();
    const task = run(
      function* () {
        yield* waitTicks(1_000_000);
      },
      { ticks },
    );
    expect(ticks.waiting).toBe(1);
    await task.halt();
    expect(ticks.waiting).toBe(0);
  });

  it("children inherit the scheduler and their parent's order key", () => {
    const ticks = new TickScheduler();
    const log: string[] = [];
    for (const id of ["z", "y"]) {
      run(
        function* () {
          yield* spawn(function* () {
            yield* nextTick();
            log.push(`${id}-child`);
          });
          yield* suspend();
        },
        { ticks, name: id },
      );
    }
    ticks.tick();
    expect(log).toEqual(["y-child", "z-child"]);
  });
});
