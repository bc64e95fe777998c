// The stats service's HTTP JSON API against a real service on 127.0.0.1 (random port).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deriveStats } from "../../shared/stats.ts";
import { startStatsService, type StatsService } from "../../server/stats/service.ts";

const TOKEN = "test-token";
const auth = { authorization: `Bearer ${TOKEN}` };
const body = { level: 5, maxHp: 150, attack: 20, defense: 9, critChance: 120, critMultiplier: 175, speed: 11 };

let svc: StatsService;
beforeAll(async () => {
  svc = await startStatsService({ port: 0, db: ":memory:", token: TOKEN });
});
afterAll(() => svc.close());

async function req(method: string, path: string, init: { headers?: Record<string, string>; body?: unknown } = {}) {
  const res = await fetch(svc.httpUrl + path, {
    method,
    headers: init.headers,
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

describe("GET /players/:id/stats", () => {
  it("with the token, creates an unknown valid id on first read with derived stats, then reads the stored row", async () => {
    const first = await req("GET", "/players/p_http_1/stats", { headers: auth });
    expect(first).toEqual({ status: 200, json: deriveStats("p_http_1") });
    expect(await req("GET", "/players/p_http_1/stats?create=0")).toEqual(first);
  });

  it("without the token, answers derived stats for an unknown id but writes nothing", async () => {
    expect(await req("GET", "/players/p_anon/stats")).toEqual({ status: 200, json: deriveStats("p_anon") });
    expect((await req("GET", "/players/p_anon/stats?create=0")).status).toBe(404);
  });

  it("404 with ?create=0 for an id that was never stored, and nothing is created", async () => {
    const r = await req("GET", "/players/p_never_seen/stats?create=0");
    expect(r.status).toBe(404);
    expect(r.json.error).toBe("not_found");
    expect((await req("GET", "/players/p_never_seen/stats?create=0")).status).toBe(404);
  });

  it("400 naming `id` for ids that are not ids; 404 for unknown routes", async () => {
    const bad = await req("GET", "/players/p%20x/stats");
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe("id");
    expect((await req("GET", `/players/${"x".repeat(65)}/stats`)).status).toBe(400);
    const nf = await req("GET", "/nope");
    expect(nf.status).toBe(404);
    expect(nf.json.error).toBe("not_found");
  });
});

describe("PUT /players/:id/stats", () => {
  it("needs the service token", async () => {
    expect((await req("PUT", "/players/p_put_1/stats", { body })).status).toBe(401);
    expect(
      (await req("PUT", "/players/p_put_1/stats", { body, headers: { authorization: "Bearer nope" } })).status,
    ).toBe(401);
    expect((await req("PUT", "/players/p_put_1/stats", { body, headers: { authorization: TOKEN } })).status).toBe(401);
    // nothing was written
    expect((await req("GET", "/players/p_put_1/stats")).json).toEqual(deriveStats("p_put_1"));
  });

  it("writes, bumps the version on change only, and honours an expected version", async () => {
    const w = await req("PUT", "/players/p_put_2/stats", { body, headers: auth });
    expect(w).toEqual({ status: 200, json: { id: "p_put_2", ...body, version: 2 } });
    expect((await req("GET", "/players/p_put_2/stats")).json.version).toBe(2);
    expect((await req("PUT", "/players/p_put_2/stats", { body, headers: auth })).json.version).toBe(2);
    const changed = await req("PUT", "/players/p_put_2/stats", {
      body: { ...body, attack: 21, version: 2 },
      headers: auth,
    });
    expect(changed.json).toMatchObject({ attack: 21, version: 3 });
    const conflict = await req("PUT", "/players/p_put_2/stats", {
      body: { ...body, attack: 99, version: 2 },
      headers: auth,
    });
    expect(conflict.status).toBe(409);
    expect((await req("GET", "/players/p_put_2/stats")).json).toMatchObject({ attack: 21, version: 3 });
    // a refused write on an id never stored leaves it never stored
    const refused = await req("PUT", "/players/p_put_never/stats", { body: { ...body, version: 7 }, headers: auth });
    expect(refused.status).toBe(409);
    expect((await req("GET", "/players/p_put_never/stats?create=0")).status).toBe(404);
  });

  it("400 naming the field for every kind of bad value; the stored row is unchanged", async () => {
    await req("PUT", "/players/p_put_3/stats", { body, headers: auth });
    const cases: [unknown, string][] = [
      [{ ...body, attack: "20" }, "attack"],
      [{ ...body, critChance: 1001 }, "critChance"],
      [{ ...body, critMultiplier: 99 }, "critMultiplier"],
      [{ ...body, maxHp: 1.5 }, "maxHp"],
      [{ ...body, speed: null }, "speed"],
      [{ ...body, level: undefined }, "level"],
      [{ ...body, hp: 3 }, "hp"],
      [{ ...body, id: "p_other" }, "id"],
      ["[1,2]", "body"],
      ["{not json", "body"],
    ];
    for (const [b, field] of cases) {
      const r = await req("PUT", "/players/p_put_3/stats", { body: b, headers: auth });
      expect(r.status, JSON.stringify(b)).toBe(400);
      expect(r.json.field).toBe(field);
      expect(r.json.message).toContain(field === "body" ? "body" : `"${field}"`);
    }
    expect((await req("PUT", "/players/p_put_3/stats", { body: "x".repeat(20_000), headers: auth })).status).toBe(413);
    expect((await req("GET", "/players/p_put_3/stats")).json).toEqual({ id: "p_put_3", ...body, version: 2 });
  });
});

describe("operations endpoints", () => {
  it("/healthz and /metrics (requests, errors, latency histogram, CPU)", async () => {
    expect(await req("GET", "/healthz")).toEqual({ status: 200, json: { status: "ok", store: "sqlite" } });
    await req("GET", "/players/p_m/stats");
    await req("GET", "/players/bad%20id/stats");
    const text = (await req("GET", "/metrics")).json as string;
    expect(text).toMatch(/^stats_requests_total\{transport="http",op="get"\} \d+$/m);
    expect(text).toMatch(/^stats_errors_total\{transport="http",status="400"\} \d+$/m);
    expect(text).toMatch(/^stats_request_duration_seconds_bucket\{le="\+Inf",transport="http"\} \d+$/m);
    expect(text).toMatch(/^process_cpu_user_seconds_total [0-9.e-]+$/m);
  });

  it("PUT /admin/faults needs the token, validates, and takes effect", async () => {
    expect((await req("PUT", "/admin/faults", { body: { latencyMs: 50 } })).status).toBe(401);
    const bad = await req("PUT", "/admin/faults", { body: { failRate: 2 }, headers: auth });
    expect(bad.status).toBe(400);
    expect(bad.json.field).toBe("failRate");
    expect((await req("PUT", "/admin/faults", { body: { latency: 5 }, headers: auth })).json.field).toBe("latency");
    const set = await req("PUT", "/admin/faults", { body: { latencyMs: 150 }, headers: auth });
    expect(set.json).toMatchObject({ latencyMs: 150, failRate: 0, stall: false });
    try {
      const t0 = performance.now();
      expect((await req("GET", "/players/p_slow/stats")).status).toBe(200);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
      await req("PUT", "/admin/faults", { body: { latencyMs: 0, failRate: 1 }, headers: auth });
      const failed = await req("GET", "/players/p_slow/stats");
      expect(failed.status).toBe(503);
      expect(failed.json.error).toBe("server");
    } finally {
      svc.setFaults({ latencyMs: 0, failRate: 0 });
    }
    expect((await req("GET", "/admin/faults", { headers: auth })).json).toMatchObject({ latencyMs: 0, failRate: 0 });
  });
});

describe("SQLite file store", () => {
  it("creates the file with its schema on first start and keeps writes across restarts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stats-db-"));
    try {
      const path = join(dir, "nested", "stats.db");
      const a = await startStatsService({ port: 0, db: path, token: TOKEN });
      const w = await fetch(`${a.httpUrl}/players/p_file/stats`, {
        method: "PUT",
        headers: auth,
        body: JSON.stringify(body),
      });
      expect(w.status).toBe(200);
      await a.close();
      const b = await startStatsService({ port: 0, db: path, token: TOKEN });
      const r = await fetch(`${b.httpUrl}/players/p_file/stats?create=0`);
      expect(await r.json()).toEqual({ id: "p_file", ...body, version: 2 });
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
