import { describe, expect, it } from "vitest";
import {
  Journal,
  Scope,
  TickScheduler,
  all,
  call,
  nextTick,
  run,
  sleep,
  spawn,
  suspend,
} from "../../server/runtime/index.ts";
import type { Operation, Task } from "../../server/runtime/index.ts";
import { delay } from "./helpers.ts";

describe("effects are plain, reusable values", () => {
  it("one effect object can be shared by many coroutines and re-yielded", () => {
    const tick = nextTick(); // module-level style constant
    const ticks = new TickScheduler();
    const counts = [0, 0, 0];
    for (const i of [0, 1, 2]) {
      run(
        function* () {
          for (;;) {
            yield* tick;
            counts[i]++;
          }
        },
        { ticks, name: `e${i}` },
      );
    }
    for (let t = 0; t < 4; t++) ticks.tick();
    expect(counts).toEqual([4, 4, 4]);
  });

  it("a reused spawn effect starts a new child each time", async () => {
    const spawnOne = spawn(() => call("v", () => delay(1, 1)));
    const total = await run(function* () {
      const a = yield* spawnOne;
      const b = yield* spawnOne;
      const distinct = a !== b;
      return [(yield* a) + (yield* b), distinct];
    });
    expect(total).toEqual([2, true]);
  });

  it("a plain `yield` of spawn still spawns (handled by the runtime instead of inline)", async () => {
    const value = await run(function* () {
      const task = (yield spawn(() => call("v", () => delay(1, 5))) as never) as Task<number>;
      return yield* task;
    });
    expect(value).toBe(5);
  });

  it("a child error thrown into a parent waiting in all() halts that all()'s children", async () => {
    const log: string[] = [];
    const result = await run(function* () {
      yield* spawn(function* () {
        yield* sleep(5);
        throw new Error("spawned child failed");
      });
      try {
        yield* all([
          (function* () {
            try {
              yield* suspend();
            } finally {
              log.push("all child 0 halted");
            }
          })(),
          (function* () {
            try {
              yield* suspend();
            } finally {
              log.push("all child 1 halted");
            }
          })(),
        ]);
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(result).toBe("spawned child failed");
    expect(log.sort()).toEqual(["all child 0 halted", "all child 1 halted"]);
  });

  it("a Scope records into and replays from a journal", async () => {
    const journal = new Journal();
    const body = (io: () => Promise<number>) =>
      function* (): Operation<number> {
        return (yield* call("roll", io)) * 2;
      };
    const live = await new Scope({ name: "p_7", journal }).run(
      body(async () => 21),
      { name: "round-1" },
    );
    expect(journal.entries).toEqual([{ coroutine: "p_7/round-1", step: 0, call: "roll", ok: true, value: 21 }]);
    const replay = new Scope({ name: "p_7", journal: Journal.from(journal.entries), replay: true });
    expect(
      await replay.run(
        body(() => Promise.reject(new Error("no I/O"))),
        { name: "round-1" },
      ),
    ).toBe(live);
  });
});
