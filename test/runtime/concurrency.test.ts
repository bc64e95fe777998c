import { describe, expect, it } from "vitest";
import { all, call, run, spawn } from "../../server/runtime/index.ts";
import type { Operation, Task } from "../../server/runtime/index.ts";
import { delay } from "./helpers.ts";

describe("concurrency", () => {
  it("runs N calls of 50 ms concurrently: every call starts before any finishes", async () => {
    const log: string[] = [];
    function* fetch(i: number): Operation<number> {
      return yield* call(`fetch`, async () => {
        log.push(`start ${i}`);
        await delay(50, 0);
        log.push(`end ${i}`);
        return i * 10;
      });
    }
    const result = await run(function* () {
      return yield* all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => fetch(i)));
    });
    expect(result).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    const firstEnd = log.findIndex((e) => e.startsWith("end"));
    expect(firstEnd).toBe(8);
    expect(log.slice(0, 8).every((e) => e.startsWith("start"))).toBe(true);
  });

  it("spawned children overlap too", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    await run(function* () {
      const tasks: Task<void>[] = [];
      for (let i = 0; i < 6; i++) {
        tasks.push(
          yield* spawn(() =>
            call("io", async () => {
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              await delay(50, 0);
              inFlight--;
            }),
          ),
        );
      }
      for (const t of tasks) yield* t;
    });
    expect(maxInFlight).toBe(6);
  });

  it("joining in spawn order gives spawn order whatever the completion order", async () => {
    const completed: number[] = [];
    // later children finish first, in a chain rather than by timers (a loaded machine reorders
    // timers 10 ms apart): child 4 may go at once, and each child lets the one before it go
    const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
    gates[4].resolve();
    const joined = await run(function* () {
      const tasks: Task<number>[] = [];
      for (let i = 0; i < 5; i++) {
        tasks.push(
          yield* spawn(function* () {
            yield* call("wait", () => gates[i].promise);
            completed.push(i);
            gates[i - 1]?.resolve();
            return i;
          }),
        );
      }
      const out: number[] = [];
      for (const t of tasks) out.push(yield* t);
      return out;
    });
    expect(completed).toEqual([4, 3, 2, 1, 0]);
    expect(joined).toEqual([0, 1, 2, 3, 4]);
  });

  it("all() returns results in input order, not completion order", async () => {
    const order: string[] = [];
    const result = await run(function* () {
      return yield* all([
        call("slow", async () => {
          await delay(40, 0);
          order.push("slow");
          return "slow";
        }),
        call("fast", async () => {
          await delay(5, 0);
          order.push("fast");
          return "fast";
        }),
        call("sync", () => "sync"),
      ]);
    });
    expect(order).toEqual(["fast", "slow"]);
    expect(result).toEqual(["slow", "fast", "sync"]);
  });

  it("all([]) returns an empty array", async () => {
    expect(
      await run(function* () {
        return yield* all([]);
      }),
    ).toEqual([]);
  });

  it("runs a thousand coroutines with structured joins", async () => {
    const sum = await run(function* () {
      const tasks: Task<number>[] = [];
      for (let i = 0; i < 1000; i++) tasks.push(yield* spawn(() => call("n", () => Promise.resolve(i))));
      let s = 0;
      for (const t of tasks) s += yield* t;
      return s;
    });
    expect(sum).toBe((999 * 1000) / 2);
  });
});
