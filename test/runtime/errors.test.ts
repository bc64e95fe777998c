import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HaltedError, all, allSettled, call, race, run, sleep, spawn, suspend } from "../../server/runtime/index.ts";
import type { Operation, Task } from "../../server/runtime/index.ts";
import { delay } from "./helpers.ts";

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on("unhandledRejection", onUnhandled);
});
afterEach(async () => {
  await delay(5, 0); // let any stray rejection surface
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

function* failAfter(ms: number, message: string): Operation<never> {
  yield* call("fail", () => delay(ms, 0));
  throw new Error(message);
}

describe("errors", () => {
  it("a call's rejection is thrown at the yield* and can be caught", async () => {
    const result = await run(function* () {
      try {
        yield* call("boom", async () => {
          throw new Error("boom");
        });
        return "not reached";
      } catch (e) {
        return `caught ${(e as Error).message}`;
      }
    });
    expect(result).toBe("caught boom");
  });

  it("allSettled contains each child's failure; siblings complete", async () => {
    const finished: string[] = [];
    const settled = await run(function* () {
      return yield* allSettled<string>([
        failAfter(5, "entity b failed"),
        (function* () {
          yield* call("ok", () => delay(20, 0));
          finished.push("a");
          return "a";
        })(),
        call("c", async () => "c"),
      ]);
    });
    expect(finished).toEqual(["a"]);
    expect(settled[0].ok).toBe(false);
    expect((settled[0] as { error: Error }).error.message).toBe("entity b failed");
    expect(settled.slice(1)).toEqual([
      { ok: true, value: "a" },
      { ok: true, value: "c" },
    ]);
  });

  it("all() propagates the first error after halting the siblings", async () => {
    const log: string[] = [];
    let siblingSignal: AbortSignal | undefined;
    const result = await run(function* () {
      try {
        yield* all<unknown>([
          failAfter(10, "first"),
          (function* () {
            try {
              yield* call("slow", (signal) => {
                siblingSignal = signal;
                return delay(10_000, 0, signal);
              });
            } finally {
              log.push("sibling finally");
            }
          })(),
          failAfter(30, "second"),
        ]);
        return "not reached";
      } catch (e) {
        log.push(`caught ${(e as Error).message}`);
        return "recovered";
      }
    });
    expect(result).toBe("recovered");
    expect(log).toEqual(["sibling finally", "caught first"]);
    expect(siblingSignal?.aborted).toBe(true);
  });

  it("an unjoined spawned child's failure is thrown into the parent, where it can be caught", async () => {
    const result = await run(function* () {
      yield* spawn(() => failAfter(5, "child failed"));
      try {
        yield* sleep(1000);
        return "slept";
      } catch (e) {
        return `caught ${(e as Error).message}`;
      }
    });
    expect(result).toBe("caught child failed");
  });

  it("joining a failed child throws its error at the join", async () => {
    const result = await run(function* () {
      const child = yield* spawn(() => failAfter(5, "joined failure"));
      try {
        yield* child;
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(result).toBe("joined failure");
  });

  it("an uncaught failure fails the task; awaiting it rejects", async () => {
    const task = run(() => failAfter(1, "uncaught"));
    await expect(task).rejects.toThrow("uncaught");
    expect(task.state).toBe("failed");
    expect((task.error as Error).message).toBe("uncaught");
  });

  it("a failed task that nobody awaits is not an unhandled rejection", async () => {
    const task = run(() => failAfter(1, "nobody listens"));
    // past the failure (1 ms): an unhandled rejection would surface by then (afterEach checks)
    await delay(20, 0);
    expect(task.state).toBe("failed");
  });

  it("race() returns the first result and halts the losers", async () => {
    const log: string[] = [];
    const winner = await run(function* () {
      return yield* race([
        (function* () {
          try {
            yield* sleep(1000);
            return "slow";
          } finally {
            log.push("slow halted");
          }
        })(),
        call("fast", () => delay(5, "fast")),
      ]);
    });
    expect(winner).toBe("fast");
    expect(log).toEqual(["slow halted"]);
  });

  it("race() rethrows the first failure", async () => {
    const task = run(function* () {
      return yield* race([failAfter(5, "lost"), suspend()]);
    });
    await expect(task).rejects.toThrow("lost");
  });

  it("allSettled reports a child whose join of a halted task threw, as failed with HaltedError", async () => {
    const result = await run(function* () {
      let child: Task<void> | undefined;
      const settled = yield* allSettled<unknown>([
        (function* () {
          child = yield* spawn(() => suspend());
          yield* child;
        })(),
        (function* () {
          yield* sleep(5);
          yield* call("halt", () => child!.halt());
          return 1;
        })(),
      ]);
      return settled.map((s) => (s.ok ? s.value : (s.error as Error).name));
    });
    expect(result).toEqual(["HaltedError", 1]);
    expect(new HaltedError("x").name).toBe("HaltedError");
  });
});
