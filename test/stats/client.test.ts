// StatsClient (RPC and HTTP) against a real stats service on 127.0.0.1 (random port).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deriveStats } from "../../shared/stats.ts";
import { createStatsClient, StatsError, type StatsClient } from "../../server/stats/client.ts";
import { startStatsService, type StatsService } from "../../server/stats/service.ts";

const TOKEN = "client-test-token";
let svc: StatsService;
const clients: StatsClient[] = [];
function client(url: string, opts: { batch?: boolean; deadlineMs?: number; lkgSize?: number; token?: string } = {}) {
  const c = createStatsClient(url, { token: TOKEN, ...opts });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  svc = await startStatsService({ port: 0, db: ":memory:", token: TOKEN });
});
afterEach(async () => {
  svc.setFaults({ latencyMs: 0, jitterMs: 0, failRate: 0, stall: false });
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(() => svc.close());

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "resolved";
  } catch (e) {
    expect(e).toBeInstanceOf(StatsError);
    return (e as StatsError).code;
  }
}

describe.each([
  ["RPC", () => svc.rpcUrl],
  ["HTTP", () => svc.httpUrl],
])("%s client", (name, url) => {
  it("gets derived stats, and the stored stats after a PUT", async () => {
    const c = client(url());
    const id = `p_cl_${name}`;
    expect(await c.get(id)).toEqual(deriveStats(id));
    const body = { level: 9, maxHp: 200, attack: 30, defense: 10, critChance: 100, critMultiplier: 200, speed: 9 };
    const put = await fetch(`${svc.httpUrl}/players/${id}/stats`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
    });
    expect(put.status).toBe(200);
    expect(await c.get(id)).toEqual({ id: id, ...body, version: 2 });
    expect(c.lastKnownGood(id)).toMatchObject({ version: 2 });
    expect(c.lastKnownGood("p_unknown_here")).toBeUndefined();
    expect(c.counters()).toMatchObject({ cacheHits: 1, cacheMisses: 1, ok: 2 });
  });

  it("rejects ids that are not ids with bad_request, without a wire request", async () => {
    const c = client(url());
    expect(await codeOf(c.get("not an id"))).toBe("bad_request");
    expect(await codeOf(c.get("x".repeat(65)))).toBe("bad_request");
    expect(c.counters().wireRequests).toBe(0);
  });

  it("coalesces concurrent gets of one id into one wire request", async () => {
    svc.setFaults({ latencyMs: 30 });
    const c = client(url(), { batch: false });
    await c.get("p_warm"); // connection established
    const before = svc.counters();
    const results = await Promise.all(Array.from({ length: 50 }, () => c.get("p_coalesce")));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    const after = svc.counters();
    const served = after.rpcIdsServed + after.httpIdsServed - before.rpcIdsServed - before.httpIdsServed;
    expect(served).toBe(1);
    expect(c.counters()).toMatchObject({ requests: 51, wireRequests: 2, coalesced: 49 });
  });

  it("deadline: a get without an answer in time rejects with 'timeout' and frees its slot", async () => {
    svc.setFaults({ latencyMs: 300 });
    const c = client(url());
    const t0 = performance.now();
    // 'timeout', not the answer: the deadline fired before the service answered
    expect(await codeOf(c.get("p_deadline", { deadlineMs: 50 }))).toBe("timeout");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(45);
    expect(c.counters()).toMatchObject({ timeouts: 1, inFlight: 0, inFlightIds: 0, cancelledCalls: 1 });
    expect(await codeOf(c.get("p_deadline", { deadlineMs: 0 }))).toBe("timeout");
  });

  it("cancellation: an aborted get rejects with 'aborted' promptly; the other waiter of the id is unaffected", async () => {
    svc.setFaults({ latencyMs: 200 });
    const c = client(url());
    const ac = new AbortController();
    const aborted = c.get("p_cancel", { signal: ac.signal });
    const other = c.get("p_cancel");
    await expect.poll(() => c.counters().wireRequests).toBe(1); // on its way to the service
    ac.abort();
    // 'aborted' while the other waiter is still in flight: the abort, not the answer, ended it
    expect(await codeOf(aborted)).toBe("aborted");
    expect(c.counters()).toMatchObject({ inFlight: 1, cancelledCalls: 0 });
    expect(await other).toEqual(deriveStats("p_cancel"));
    expect(await codeOf(c.get("p_cancel", { signal: AbortSignal.abort() }))).toBe("aborted");
  });

  it("cancellation of the last waiter frees the call; a late answer is ignored", async () => {
    svc.setFaults({ latencyMs: 100 });
    const c = client(url(), { batch: false });
    await c.get("p_warm2");
    const ac = new AbortController();
    const p = c.get("p_cancel_all", { signal: ac.signal });
    await expect.poll(() => c.counters().wireRequests).toBe(2); // on its way to the service
    ac.abort();
    expect(await codeOf(p)).toBe("aborted");
    expect(c.counters()).toMatchObject({ inFlight: 0, inFlightIds: 0, cancelledCalls: 1 });
    // a new get of the same id is a new wire request, not the abandoned one
    expect(await c.get("p_cancel_all")).toEqual(deriveStats("p_cancel_all"));
    expect(c.counters().wireRequests).toBe(3);
  });

  it("stall mode: requests are accepted and never answered; deadlines still fire; nothing leaks", async () => {
    const c = client(url());
    await c.get("p_warm3");
    svc.setFaults({ stall: true });
    const codes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => codeOf(c.get(`p_stall_${i}`, { deadlineMs: 80 }))),
    );
    expect(codes).toEqual(Array(20).fill("timeout"));
    expect(c.counters()).toMatchObject({ inFlight: 0, inFlightIds: 0 });
    svc.setFaults({ stall: false });
    expect(await c.get("p_stall_0")).toEqual(deriveStats("p_stall_0"));
  });

  it("injected failures come back as per-request 'server' errors", async () => {
    svc.setFaults({ failRate: 1 });
    // what a get ends with here is the injected fault, never its deadline (out of reach)
    const c = client(url(), { deadlineMs: 120_000 });
    expect(await codeOf(c.get("p_fail"))).toBe("server");
    svc.setFaults({ failRate: 0.5, seed: 42 });
    const codes = await Promise.all(Array.from({ length: 100 }, (_, i) => codeOf(c.get(`p_half_${i}`))));
    const failed = codes.filter((x) => x === "server").length;
    expect(codes.filter((x) => x !== "server" && x !== "resolved")).toEqual([]);
    expect(failed).toBeGreaterThan(25);
    expect(failed).toBeLessThan(75);
  });
});

describe("RPC client specifics", () => {
  it("concurrency: with 100 ms added latency, 200 concurrent gets are all in flight at once on the service", async () => {
    for (const batch of [true, false]) {
      svc.setFaults({ latencyMs: 100 });
      const c = client(svc.rpcUrl, { batch });
      await c.get("p_warm4");
      svc.resetPeak();
      const all = await Promise.all(Array.from({ length: 200 }, (_, i) => c.get(`p_conc_${batch}_${i}`)));
      expect(all).toHaveLength(200);
      // all 200 held by the service at one moment: overlapping, not one after another
      expect(svc.counters().inFlightPeak).toBe(200);
      expect(c.counters().batches).toBe(batch ? 1 : 0);
      expect(c.counters().frames).toBe(batch ? 2 : 201);
    }
  });

  it("batches the gets of one event-loop turn into one frame, even when issued from separate continuations", async () => {
    const c = client(svc.rpcUrl);
    await c.get("p_warm5");
    const before = svc.counters().rpcBatchFrames;
    const ids = Array.from({ length: 300 }, (_, i) => `npc_orc_${i}`);
    const got = await Promise.all(
      ids.map(async (id, i) => {
        for (let k = 0; k < i % 3; k++) await null; // spread over microtasks
        return c.get(id);
      }),
    );
    expect(got.map((s) => s.id)).toEqual(ids);
    expect(got[7]).toEqual(deriveStats("npc_orc_7"));
    expect(svc.counters().rpcBatchFrames - before).toBe(1);
  });

  it("a wrong token is refused at connect: gets fail with 'unauthorized', the service keeps serving others", async () => {
    const bad = client(svc.rpcUrl, { token: "wrong" });
    expect(await codeOf(bad.get("p_tok"))).toBe("unauthorized");
    expect(await codeOf(bad.get("p_tok"))).toBe("unauthorized");
    const good = client(svc.rpcUrl);
    expect(await good.get("p_tok")).toEqual(deriveStats("p_tok"));
  });

  it("close() rejects pending gets with 'unavailable' and later gets too", async () => {
    svc.setFaults({ latencyMs: 500 });
    const c = client(svc.rpcUrl);
    const p = codeOf(c.get("p_close"));
    await expect.poll(() => c.counters().wireRequests).toBe(1); // on its way to the service
    await c.close();
    expect(await p).toBe("unavailable");
    expect(await codeOf(c.get("p_close"))).toBe("unavailable");
  });

  it("last-known-good keeps the newest lkgSize ids", async () => {
    const c = client(svc.rpcUrl, { lkgSize: 2 });
    for (const id of ["p_lkg_1", "p_lkg_2", "p_lkg_3"]) await c.get(id);
    expect(c.lastKnownGood("p_lkg_1")).toBeUndefined();
    expect(c.lastKnownGood("p_lkg_2")).toEqual(deriveStats("p_lkg_2"));
    expect(c.lastKnownGood("p_lkg_3")).toEqual(deriveStats("p_lkg_3"));
    expect(Object.isFrozen(c.lastKnownGood("p_lkg_3"))).toBe(true);
  });
});

describe("HTTP client specifics", () => {
  it("a service that is not there fails fast with 'unavailable', then the breaker fails fast too", async () => {
    const probe = await startStatsService({ port: 0, token: TOKEN });
    const url = probe.httpUrl;
    await probe.close();
    // a deadline past the test's own timeout: only a failure on the refused connection ends the get
    const c = client(url, { deadlineMs: 120_000 });
    expect(await codeOf(c.get("p_gone"))).toBe("unavailable");
    // the breaker: the second fails without a wire request
    expect(await codeOf(c.get("p_gone"))).toBe("unavailable");
    expect(c.counters()).toMatchObject({ unavailable: 2, wireRequests: 1 });
  });

  it("rejects a stats URL of another scheme", () => {
    expect(() => createStatsClient("ftp://x", { token: TOKEN })).toThrow(TypeError);
  });
});
