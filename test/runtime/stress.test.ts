import { describe, expect, it, vi } from "vitest";
import { all, allSettled, call, race, run, sleep, spawn, suspend, timeout } from "../../server/runtime/index.ts";
import type { Operation, Task } from "../../server/runtime/index.ts";
import { activeCount, delay } from "./helpers.ts";

/** mulberry32: a tiny seeded PRNG so every generated tree is reproducible from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Counters {
  started: number;
  finished: number;
}

/** A random tree of effects; every generated coroutine counts its start and its finally. */
function randomOp(rand: () => number, depth: number, c: Counters): Operation<unknown> {
  const pick = Math.floor(rand() * (depth > 2 ? 3 : 9));
  const children = () => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => randomOp(rand, depth + 1, c));
  const fails = rand() < 0.2;
  const ms = Math.floor(rand() * 6);
  return (function* (): Operation<unknown> {
    c.started++;
    try {
      switch (pick) {
        case 0:
          return yield* call("io", (signal) =>
            delay(ms, 1, signal).then((v) => {
              if (fails) throw new Error("io failed");
              return v;
            }),
          );
        case 1:
          return yield* sleep(ms);
        case 2:
          if (fails) throw new Error("sync failure");
          return 0;
        case 3:
          return yield* all(children());
        case 4:
          return yield* allSettled(children());
        case 5:
          return yield* race([...children(), sleep(10)]);
        case 6:
          return yield* timeout(ms, randomOp(rand, depth + 1, c));
        case 7: {
          const t = yield* spawn(() => randomOp(rand, depth + 1, c));
          if (rand() < 0.5) return yield* t;
          return yield* sleep(ms);
        }
        default:
          return yield* race([suspend(), randomOp(rand, depth + 1, c)]);
      }
    } finally {
      c.finished++;
    }
  })();
}

describe("random trees (seeded)", () => {
  it("every started coroutine runs its finally exactly once; nothing is left pending", async () => {
    for (let seed = 1; seed <= 60; seed++) {
      // Timers of the harness may expire during a run, so compare with "at most before".
      const timers = activeCount("Timeout");
      const rand = prng(seed);
      const c: Counters = { started: 0, finished: 0 };
      const root = run(() => randomOp(rand, 0, c), { name: `seed-${seed}` });
      // Halt some runs mid-flight, let the others finish or fail on their own.
      if (seed % 3 === 0) {
        await delay(Math.floor(rand() * 4), 0);
        await root.halt();
      } else {
        await Promise.resolve(root).catch(() => undefined);
      }
      expect(root.state, `seed ${seed}`).not.toBe("running");
      if (c.finished !== c.started)
        expect.fail(`seed ${seed}: ${c.started} started, ${c.finished} finished, ${root.state} ${String(root.error)}`);
      expect(activeCount("Timeout"), `seed ${seed}`).toBeLessThanOrEqual(timers);
    }
  });
});

describe("long synchronous chains", () => {
  it("a chain of 50 000 joins settles without overflowing the stack", async () => {
    const result = await run(function* () {
      let prev: Task<number> = yield* spawn(() => call("start", () => delay(5, 0)));
      for (let i = 0; i < 50_000; i++) {
        const p = prev;
        prev = yield* spawn(function* () {
          return (yield* p) + 1;
        });
      }
      return yield* prev;
    });
    expect(result).toBe(50_000);
  });

  it("recursion 20 000 spawns deep runs and halts cleanly", async () => {
    let finallies = 0;
    let deepest = false;
    function* nest(n: number): Operation<number> {
      try {
        if (n === 0) {
          deepest = true;
          return yield* suspend();
        }
        const child = yield* spawn(() => nest(n - 1));
        return yield* child;
      } finally {
        finallies++;
      }
    }
    const task = run(() => nest(20_000));
    await vi.waitFor(() => expect(deepest).toBe(true));
    await task.halt();
    expect(finallies).toBe(20_001);
  });

  it("a 20 000 deep tree whose bodies all returned closes without overflowing", async () => {
    let finallies = 0;
    let deepest = false;
    function* leave(n: number): Operation<void> {
      try {
        if (n === 0) {
          deepest = true;
          yield* suspend();
          return;
        }
        yield* spawn(() => leave(n - 1));
        yield* suspend();
      } finally {
        finallies++;
      }
    }
    const task = run(() => leave(20_000));
    await vi.waitFor(() => expect(deepest).toBe(true));
    await task.halt();
    expect(task.state).toBe("halted");
    expect(finallies).toBe(20_001);
  });
});
