// The real service process (server/stats/main.ts): ready message, service killed mid-flight
// (typed errors, at once), restarted on the same port (automatic reconnection), clean SIGTERM.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it, vi } from "vitest";
import { deriveStats } from "../../shared/stats.ts";
import { createStatsClient, StatsError } from "../../server/stats/client.ts";
import { spawnReady, type ReadyProcess } from "../../server/process/spawn-ready.ts";

const ENTRY = fileURLToPath(new URL("../../server/stats/main.ts", import.meta.url));
const TOKEN = "process-token";
const dir = mkdtempSync(join(tmpdir(), "stats-proc-"));
const children: ReadyProcess[] = [];
afterAll(async () => {
  for (const c of children) await c.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function startProc(args: string[]): Promise<ReadyProcess & { lines: string[] }> {
  const lines: string[] = [];
  const child = await spawnReady("server/stats/main.ts", {
    args: ["--token", TOKEN, "--db", join(dir, "stats.db"), ...args],
    env: { STATS_PORT: undefined, STATS_LATENCY_MS: undefined },
    onLine: (line) => lines.push(line),
  });
  children.push(child);
  return Object.assign(child, { lines });
}

/** "ok", or the StatsError code a get failed with. */
async function settle<T>(p: Promise<T>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    return e instanceof StatsError ? e.code : String(e);
  }
}

describe("stats service process", () => {
  it("--help lists the flags and env vars; a bad flag exits 2", () => {
    const help = spawnSync(process.execPath, [ENTRY, "--help"], { encoding: "utf8", timeout: 10_000 });
    expect(help.status).toBe(0);
    for (const name of [
      "STATS_PORT",
      "STATS_DB",
      "STATS_TOKEN",
      "STATS_LATENCY_MS",
      "STATS_JITTER_MS",
      "STATS_FAIL_RATE",
      "STATS_STALL",
      "STATS_SEED",
    ]) {
      expect(help.stdout).toContain(name);
    }
    const bad = spawnSync(process.execPath, [ENTRY, "--fail-rate", "3"], { encoding: "utf8", timeout: 10_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("failRate");
  });

  it("killed mid-flight: typed 'unavailable' errors fast; restarted on the same port: clients reconnect by themselves", async () => {
    const first = await startProc(["--port", "0", "--latency-ms", "300"]);
    const port = first.port;
    const logged: string[] = [];
    // a deadline past the test's own timeout: a get that waited for it (instead of failing on the
    // dropped connection) would fail the test
    const deadlineMs = 120_000;
    const rpc = createStatsClient(`ws://127.0.0.1:${port}/rpc`, {
      token: TOKEN,
      backoffMaxMs: 200,
      deadlineMs,
      log: (r) => logged.push(`${r.level} ${r.msg}`),
    });
    const http = createStatsClient(`http://127.0.0.1:${port}`, { token: TOKEN, backoffMaxMs: 200, deadlineMs });
    try {
      expect(await rpc.get("p_proc")).toEqual(deriveStats("p_proc"));
      const body = { level: 2, maxHp: 90, attack: 12, defense: 6, critChance: 70, critMultiplier: 160, speed: 8 };
      const put = await fetch(`http://127.0.0.1:${port}/players/p_proc/stats`, {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(body),
      });
      expect(put.status).toBe(200);

      // 50 gets in flight (the service holds each answer 300 ms), then the process dies
      const inFlight = Array.from({ length: 50 }, (_, i) => settle(rpc.get(`p_mid_${i}`)));
      const httpInFlight = settle(http.get("p_mid_http"));
      await expect.poll(() => [rpc.counters().wireRequests, http.counters().wireRequests]).toEqual([1 + 50, 1]);
      first.proc.kill("SIGKILL");
      // failed on the drop ('unavailable'; a deadline would say 'timeout', and is out of reach)
      expect(await Promise.all(inFlight)).toEqual(Array(50).fill("unavailable"));
      expect(await httpInFlight).toBe("unavailable");

      // during the outage: fail fast, never hang (RPC: without touching the wire; HTTP: its breaker
      // or one refused connection)
      const sent = rpc.counters().wireRequests;
      for (const c of [rpc, http]) expect(await settle(c.get("p_outage"))).toBe("unavailable");
      expect(rpc.counters().wireRequests).toBe(sent);

      const second = await startProc(["--port", String(port)]);
      expect(second.port).toBe(port);
      for (const c of [rpc, http]) {
        const failures = new Set<string>();
        const got = await vi.waitFor(
          () =>
            c.get("p_proc").catch((e: StatsError) => {
              failures.add(e.code);
              throw e;
            }),
          { timeout: 10_000, interval: 50 },
        );
        expect([...failures].filter((code) => code !== "unavailable")).toEqual([]);
        // the write made before the crash survived (SQLite file)
        expect(got).toEqual({ id: "p_proc", ...body, version: 2 });
      }
      expect(rpc.counters()).toMatchObject({ disconnects: 1, reconnects: 1 });
      expect(logged).toEqual(["warn stats service connection lost", "info stats service reconnected"]);
      expect(http.counters().reconnects).toBe(1);

      expect(await second.stop("SIGTERM")).toEqual({ code: 0, signal: null });
      expect(second.lines.some((l) => l.includes('"msg":"stats stopped"'))).toBe(true);
    } finally {
      await rpc.close();
      await http.close();
    }
  });
});
