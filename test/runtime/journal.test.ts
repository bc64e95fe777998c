import { pack, unpack } from "msgpackr";
import { describe, expect, it } from "vitest";
import {
  Journal,
  NonDeterminismError,
  allSettled,
  call,
  run,
  spawn,
  sleep,
  timeout,
} from "../../server/runtime/index.ts";
import type { Operation } from "../../server/runtime/index.ts";
import { delay } from "./helpers.ts";

/** A round: each entity fetches its stats concurrently (random latency), one fetch fails. */
function round(ids: string[], fetch: (id: string) => Promise<{ hp: number }>) {
  return function* (): Operation<string[]> {
    const tasks = [];
    for (const id of ids) {
      tasks.push(
        yield* spawn(
          function* () {
            try {
              const stats = yield* call("stats", () => fetch(id));
              const bonus = yield* call("bonus", async () => stats.hp % 7);
              return `${id}:${stats.hp + bonus}`;
            } catch (e) {
              return `${id}:stale(${(e as Error & { code?: string }).code})`;
            }
          },
          { name: id },
        ),
      );
    }
    const out: string[] = [];
    for (const t of tasks) out.push(yield* t);
    return out;
  };
}

const ids = ["p_3", "p_1", "npc_2"];
let ioCount = 0;
async function liveFetch(id: string): Promise<{ hp: number }> {
  ioCount++;
  await delay(Math.floor(Math.random() * 15), 0);
  if (id === "npc_2") throw Object.assign(new Error("stats service unavailable"), { code: "unavailable" });
  return { hp: 100 + id.length * 13 };
}
function noIo(): Promise<never> {
  ioCount++;
  throw new Error("replay must not do I/O");
}

describe("Journal record / replay", () => {
  it("records every call result, keyed by coroutine and step", async () => {
    const journal = new Journal();
    const result = await run(round(ids, liveFetch), { name: "round-1", journal });
    expect(result).toEqual(["p_3:145", "p_1:145", "npc_2:stale(unavailable)"]);
    const byCoroutine = (c: string) =>
      journal.entries.filter((e) => e.coroutine === c).map((e) => [e.step, e.call, e.ok]);
    expect(byCoroutine("p_1")).toEqual([
      [0, "stats", true],
      [1, "bonus", true],
    ]);
    expect(byCoroutine("npc_2")).toEqual([[0, "stats", false]]);
    const failed = journal.entries.find((e) => e.coroutine === "npc_2");
    expect(failed).toMatchObject({
      ok: false,
      error: { name: "Error", message: "stats service unavailable", code: "unavailable" },
    });
  });

  it("replays the same results without doing I/O, after a msgpackr round trip", async () => {
    const journal = new Journal();
    const recorded = await run(round(ids, liveFetch), { name: "round-2", journal });
    const copy = Journal.from(unpack(pack(journal.entries)));
    ioCount = 0;
    const replayed = await run(round(ids, noIo), { name: "round-2", journal: copy, replay: true });
    expect(ioCount).toBe(0);
    expect(replayed).toEqual(recorded);
    expect(copy.divergence).toBeNull();
    expect(copy.unconsumed()).toEqual([]);
  });

  it("detects a different call at a step, names coroutine and step, and the coroutine cannot swallow it", async () => {
    const journal = new Journal();
    await run(round(ids, liveFetch), { name: "round-3", journal });
    const diverging = function* (): Operation<string> {
      const t = yield* spawn(
        function* () {
          try {
            yield* call("stats", noIo);
            yield* call("armor", noIo); // recorded: "bonus"
            return "no divergence";
          } catch {
            return "swallowed"; // a catch-all must not hide non-determinism
          }
        },
        { name: "p_1" },
      );
      return yield* t;
    };
    const copy = Journal.from(journal.entries);
    const task = run(diverging, { name: "round-3", journal: copy, replay: true });
    await expect(task).rejects.toBeInstanceOf(NonDeterminismError);
    const error = task.error as NonDeterminismError;
    expect(error.message).toBe(
      'non-determinism in coroutine "p_1" at step 1: it called "armor" but the journal recorded "bonus"',
    );
    expect([error.coroutine, error.step]).toEqual(["p_1", 1]);
    expect(copy.divergence).toBe(error);
  });

  it("detects a call the journal has no entry for", async () => {
    const journal = new Journal();
    await run(
      function* () {
        return yield* call("a", async () => 1);
      },
      { name: "r", journal },
    );
    const task = run(
      function* () {
        yield* call("a", noIo);
        return yield* call("b", noIo);
      },
      { name: "r", journal: Journal.from(journal.entries), replay: true },
    );
    await expect(task).rejects.toThrow(
      'non-determinism in coroutine "r" at step 1: it called "b" but the journal has no entry there',
    );
  });

  it("lists entries a replay never asked for (the replayed code made fewer calls)", async () => {
    const journal = new Journal();
    await run(
      function* () {
        yield* call("a", async () => 1);
        yield* call("b", async () => 2);
      },
      { name: "r", journal },
    );
    const copy = Journal.from(journal.entries);
    await run(
      function* () {
        yield* call("a", noIo);
      },
      { name: "r", journal: copy, replay: true },
    );
    expect(copy.divergence).toBeNull();
    expect(copy.unconsumed()).toMatchObject([{ coroutine: "r", step: 1, call: "b" }]);
  });

  it("records a call cut off by a timeout as halted, and replay reproduces the timeout path", async () => {
    const journal = new Journal();
    const body = (io: (signal: AbortSignal) => Promise<string>) =>
      function* (): Operation<string> {
        try {
          return yield* timeout(20, call("slow", io));
        } catch (e) {
          return `fallback after ${(e as Error).name}`;
        }
      };
    let signal: AbortSignal | undefined;
    const slowIo = (s: AbortSignal) => {
      signal = s;
      return delay(500, "late", s);
    };
    const live = await run(body(slowIo), { name: "t", journal });
    expect(live).toBe("fallback after TimeoutError");
    expect(signal?.aborted).toBe(true);
    expect(journal.entries).toMatchObject([{ coroutine: "t.0", step: 0, call: "slow", ok: false, halted: true }]);
    const replay = await run(body(noIo), { name: "t", journal: Journal.from(journal.entries), replay: true });
    expect(replay).toBe(live);
  });

  it("rejects two coroutines sharing a journal name with a clear TypeError, before the second does any I/O", async () => {
    const journal = new Journal();
    let io = 0;
    const result = await run(
      function* () {
        const out = yield* allSettled(
          [0, 1].map(() =>
            (function* () {
              const t = yield* spawn(() => call("x", async () => ++io), { name: "dup" });
              return yield* t;
            })(),
          ),
        );
        return out.map((r) => (r.ok ? "ok" : (r.error as Error).message));
      },
      { journal },
    );
    expect(result[0]).toBe("ok");
    expect(result[1]).toMatch(/coroutine "dup": step 0 is already in the journal/);
    expect(io).toBe(1); // a call that cannot be journaled is not made
    expect(journal.entries).toMatchObject([{ coroutine: "dup", step: 0, call: "x", ok: true, value: 1 }]);
  });

  it("a call interrupted by a crashing child (not halted) stays journaled as cut off, and replays so", async () => {
    const body = (io: (signal: AbortSignal) => Promise<string>) =>
      function* (): Operation<string> {
        yield* spawn(function* () {
          yield* sleep(5);
          throw new Error("child crashed");
        });
        try {
          return yield* call("slow", io);
        } catch (e) {
          return `caught ${(e as Error).message}`;
        }
      };
    const journal = new Journal();
    let signal: AbortSignal | undefined;
    const live = await run(
      body((s) => {
        signal = s;
        return delay(500, "late", s);
      }),
      { name: "c", journal },
    );
    expect(live).toBe("caught child crashed");
    expect(signal?.aborted).toBe(true);
    expect(journal.entries).toMatchObject([{ coroutine: "c", step: 0, call: "slow", ok: false, halted: true }]);
    const copy = Journal.from(unpack(pack(journal.entries)));
    expect(await run(body(noIo), { name: "c", journal: copy, replay: true })).toBe(live);
    expect(copy.unconsumed()).toEqual([]);
  });

  it("Journal.from validates entries", () => {
    expect(() => Journal.from([{ nope: 1 }])).toThrow(TypeError);
    expect(Journal.from({ entries: [] }).entries).toEqual([]);
  });

  it("does not journal sleeps or calls outside a journaled run", async () => {
    const journal = new Journal();
    await run(
      function* () {
        yield* sleep(1);
      },
      { journal },
    );
    expect(journal.entries).toEqual([]);
  });
});
