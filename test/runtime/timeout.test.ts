import { describe, expect, it } from "vitest";
import { TimeoutError, call, run, sleep, timeout } from "../../server/runtime/index.ts";
import { activeCount, delay } from "./helpers.ts";

describe("timeout", () => {
  it("throws TimeoutError after halting the operation (signal aborted, finally run)", async () => {
    const log: string[] = [];
    let signal: AbortSignal | undefined;
    const result = await run(
      function* () {
        try {
          yield* timeout(
            20,
            (function* () {
              try {
                return yield* call("stall", (s) => {
                  signal = s;
                  return delay(10_000, "late", s);
                });
              } finally {
                log.push("op finally");
              }
            })(),
          );
          return "in time";
        } catch (e) {
          log.push("caught");
          return e instanceof TimeoutError ? `timeout ${e.ms} ${e.coroutine}` : `other ${String(e)}`;
        }
      },
      { name: "round-7" },
    );
    expect(result).toBe("timeout 20 round-7");
    expect(log).toEqual(["op finally", "caught"]);
    expect(signal?.aborted).toBe(true);
  });

  it("returns the value when in time and clears its timer", async () => {
    const timers = activeCount("Timeout");
    const value = await run(function* () {
      return yield* timeout(
        10_000,
        call("quick", () => delay(5, 42)),
      );
    });
    expect(value).toBe(42);
    expect(activeCount("Timeout")).toBeLessThanOrEqual(timers);
  });

  it("passes through the operation's own error", async () => {
    const task = run(function* () {
      return yield* timeout(
        1000,
        call("fails", async () => {
          throw new Error("own error");
        }),
      );
    });
    await expect(task).rejects.toThrow("own error");
  });

  it("nested deadlines: the inner one fires first", async () => {
    const result = await run(function* () {
      try {
        yield* timeout(1000, timeout(10, sleep(500)));
        return "none";
      } catch (e) {
        return (e as TimeoutError).ms;
      }
    });
    expect(result).toBe(10);
  });
});
