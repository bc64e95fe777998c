import { describe, expect, it } from "vitest";
import { call, run, sleep, spawn, until } from "../../server/runtime/index.ts";
import type { Operation } from "../../server/runtime/index.ts";
import { delay } from "./helpers.ts";

describe("promise interop", () => {
  it("a task is awaitable from async code", async () => {
    const task = run(function* () {
      yield* sleep(5);
      return "value";
    });
    expect(task.state).toBe("running");
    expect(await task).toBe("value");
    expect(task.state).toBe("completed");
    expect(await task.then((v) => v.length)).toBe(5);
  });

  it("a coroutine can yield* a plain promise with until()", async () => {
    const result = await run(function* () {
      const a = yield* until(delay(5, 2));
      let b = 0;
      try {
        yield* until(Promise.reject(new Error("rejected")));
      } catch (e) {
        b = (e as Error).message.length;
      }
      return a + b;
    });
    expect(result).toBe(10);
  });

  it("call() accepts functions returning plain values and catches synchronous throws", async () => {
    const result = await run(function* () {
      const v = yield* call("sync", () => 3);
      try {
        yield* call("throws", () => {
          throw new Error("sync throw");
        });
      } catch (e) {
        return `${v} ${(e as Error).message}`;
      }
    });
    expect(result).toBe("3 sync throw");
  });

  it("a coroutine can join a task started elsewhere (not its child)", async () => {
    const producer = run(
      function* () {
        return yield* call("make", () => delay(10, 21));
      },
      { name: "producer" },
    );
    const doubled = await run(function* (): Operation<number> {
      return 2 * (yield* producer);
    });
    expect(doubled).toBe(42);
  });

  it("spawn returns a task that is itself awaitable", async () => {
    let inner: PromiseLike<number> | undefined;
    const outer = run(function* () {
      inner = yield* spawn(() => call("x", () => delay(5, 9)));
      return yield* call("wait-inner", () => Promise.resolve(inner as PromiseLike<number>));
    });
    expect(await outer).toBe(9);
  });
});
