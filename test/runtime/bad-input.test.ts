import { describe, expect, it } from "vitest";
import {
  Scope,
  TickScheduler,
  all,
  call,
  race,
  run,
  sleep,
  spawn,
  timeout,
  until,
  waitTicks,
} from "../../server/runtime/index.ts";
import type { Operation, Task } from "../../server/runtime/index.ts";

/** Runs `body` as coroutine `name` and returns the error it failed with (never hangs: all are synchronous). */
function failure(name: string, body: () => Operation<unknown>): unknown {
  const task = run(body, { name });
  expect(task.state).toBe("failed");
  return task.error;
}

function expectTypeError(error: unknown, pattern: RegExp): void {
  expect(error).toBeInstanceOf(TypeError);
  expect((error as Error).message).toMatch(pattern);
}

describe("bad input gets a TypeError naming the coroutine", () => {
  it("yielding a non-effect (plain yield of a promise or value)", () => {
    expectTypeError(
      failure("p_1", function* () {
        yield Promise.resolve(1) as never;
      }),
      /^coroutine "p_1": yielded a promise, which is not an effect/,
    );
    expectTypeError(
      failure("p_2", function* () {
        yield 42 as never;
      }),
      /^coroutine "p_2": yielded number 42/,
    );
  });

  it("a plain yield of a task (tasks join only through yield*)", async () => {
    const sleeper = run(() => sleep(1), { name: "sleeper" });
    expectTypeError(
      failure("p_3", function* () {
        yield sleeper as never;
      }),
      /^coroutine "p_3": yielded .*which is not an effect/,
    );
    const joined = await run(function* () {
      const a = yield* spawn(() => call("a", async () => 1));
      const b = yield* spawn(() => call("b", async () => 2));
      return (yield* a) + (yield* b) + (yield* a); // a task joined twice, once settled
    });
    expect(joined).toBe(4);
    await sleeper;
  });

  it("the coroutine can catch it, and a plain yield of an effect still works", async () => {
    const result = await run(function* () {
      try {
        yield "oops" as never;
      } catch (e) {
        const v = (yield call("plain", () => 7) as never) as number; // plain yield of an effect: tolerated
        return `${(e as Error).name} ${v}`;
      }
    });
    expect(result).toBe("TypeError 7");
  });

  it("waitTicks without a TickScheduler, or with a bad count", () => {
    expectTypeError(
      failure("npc_9", () => waitTicks(2)),
      /^coroutine "npc_9": waitTicks\(\) needs a TickScheduler/,
    );
    const ticks = new TickScheduler();
    for (const n of [-1, 1.5, NaN, "3" as unknown as number]) {
      const task = run(() => waitTicks(n), { name: "p_x", ticks });
      expectTypeError(task.error, /^coroutine "p_x": waitTicks\(n\) expects a non-negative integer/);
    }
    expect(ticks.waiting).toBe(0);
  });

  it("wrong arguments to call, spawn, all, race, timeout, sleep, until", () => {
    expectTypeError(
      failure("a", () => call(5 as unknown as string, async () => 1)),
      /^coroutine "a": call\(name, fn\) expects a string and a function/,
    );
    expectTypeError(
      failure("b", () => call("x", "nope" as never)),
      /^coroutine "b": call\(name, fn\)/,
    );
    expectTypeError(
      failure("c", () => spawn(42 as never)),
      /^coroutine "c": spawn\(\) expects a function/,
    );
    expectTypeError(
      failure("d", () => all("xs" as never)),
      /^coroutine "d": all\(\) expects an array/,
    );
    expectTypeError(
      failure("e", () => race([])),
      /^coroutine "e": race\(\) of no operations/,
    );
    expectTypeError(
      failure("f", () => timeout(-5, sleep(1))),
      /^coroutine "f": timeout\(ms, op\) expects ms/,
    );
    expectTypeError(
      failure("g", () => sleep(-1)),
      /^coroutine "g": sleep\(ms\) expects ms/,
    );
    expectTypeError(
      failure("h", () => until(3 as never)),
      /^coroutine "h": until\(\) expects a promise/,
    );
  });

  it("a generator function passed where an operation is expected (forgot to call it)", () => {
    function* op(): Operation<number> {
      return 1;
    }
    const error = failure("round", function* () {
      yield* all([op as unknown as Operation<number>]);
    });
    expectTypeError(
      error,
      /^coroutine "round\.0": expected an operation .* did you forget to call the generator function\?/,
    );
  });

  it("an async function used as a spawn body", () => {
    const error = failure("r", function* () {
      const t = yield* spawn((async () => 1) as never);
      yield* t;
    });
    expectTypeError(error, /^coroutine "r\.0": expected an operation .*got a promise .*use call\(\)/);
  });

  it("a coroutine joining itself", async () => {
    const holder: { task?: Task<unknown> } = {};
    const task = run(
      function* (): Operation<unknown> {
        yield* sleep(1);
        return yield* holder.task as Task<unknown>;
      },
      { name: "selfish" },
    );
    holder.task = task;
    await expect(task).rejects.toThrow(/^coroutine "selfish": a coroutine cannot join itself$/);
  });

  it("iterating a task or an effect other than with yield* fails instead of looping forever", async () => {
    const task = run(() => sleep(5), { name: "t" });
    expect(() => [...task]).toThrow(/join was iterated outside a coroutine/);
    expect(() => Array.from(call("x", async () => 1))).toThrow(/call\("x"\) was iterated outside a coroutine/);
    const inside = run(
      function* () {
        return Array.from(task as Iterable<unknown>).length; // e.g. a pretty-printer walking the task
      },
      { name: "walker" },
    );
    expectTypeError(inside.error, /^coroutine "walker": join was iterated again before the runtime resumed it/);
    await task;
  });

  it("run() and Scope with bad arguments throw synchronously", () => {
    expect(() => run("nope" as never, { name: "boot" })).toThrow(/coroutine "boot": run\(\) expects a function/);
    expect(() => run(function* () {}, { replay: true })).toThrow(/needs a journal/);
    expect(() => new Scope({} as never)).toThrow(TypeError);
    expect(() => new Scope({ name: "s" }).run(5 as never, { name: "x" })).toThrow(/coroutine "s\/x"/);
  });
});
