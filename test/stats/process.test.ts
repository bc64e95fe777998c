// The real service process (server/stats/main.ts): ready message, service killed mid-flight
// (typed errors, fast), restarted on the same port (automatic reconnection), clean SIGTERM.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
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

async function settle<T>(p: Promise<T>): Promise<{ code: string; ms: number }> {
  const t0 = performance.now();
  try {
    await p;
    return { code: "ok", ms: performance.now() - t0 };
  } catch (e) {
    return { code: e instanceof StatsError ? e.code : String(e), ms: performance.now() - t0 };
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
    const rpc = createStatsClient(`ws://127.0.0.1:${port}/rpc`, {
      token: TOKEN,
      backoffMaxMs: 200,
      deadlineMs: 5000,
      log: (r) => logged.push(`${r.level} ${r.msg}`),
    });
    const http = createStatsClient(`http://127.0.0.1:${port}`, { token: TOKEN, backoffMaxMs: 200, deadlineMs: 5000 });
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
      await new Promise((r) => setTimeout(r, 60));
      const killedAt = performance.now();
      first.proc.kill("SIGKILL");
      const results = await Promise.all(inFlight);
      expect(results.map((r) => r.code)).toEqual(Array(50).fill("unavailable"));
      expect(performance.now() - killedAt).toBeLessThan(1000); // far from the 5 s deadline: failed on the drop, not timed out
      expect((await httpInFlight).code).toBe("unavailable");

      // during the outage: fail fast, never hang
      for (const c of [rpc, http]) {
        const r = await settle(c.get("p_outage"));
        expect(r.code).toBe("unavailable");
        expect(r.ms).toBeLessThan(100);
      }

      const second = await startProc(["--port", String(port)]);
      expect(second.port).toBe(port);
      for (const c of [rpc, http]) {
        let got: unknown;
        for (let i = 0; i < 100 && got === undefined; i++) {
          try {
            got = await c.get("p_proc");
          } catch (e) {
            expect((e as StatsError).code).toBe("unavailable");
            await new Promise((r) => setTimeout(r, 50));
          }
        }
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
