// Bad input on the RPC port: every bad frame gets a clear error (or the connection is closed with
// a reason), the service keeps serving other connections, and nothing stored changes.
import { connect } from "node:net";
import { Packr } from "msgpackr";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Sfc32 } from "../../shared/prng.ts";
import { deriveStats } from "../../shared/stats.ts";
import { createStatsClient, type StatsClient } from "../../server/stats/client.ts";
import { startStatsService, type StatsService } from "../../server/stats/service.ts";

const TOKEN = "garbage-token";
const packr = new Packr({ useRecords: false });
const stored = { level: 7, maxHp: 222, attack: 33, defense: 11, critChance: 99, critMultiplier: 222, speed: 7 };
let svc: StatsService;
let bystander: StatsClient;

interface Raw {
  ws: WebSocket;
  next(): Promise<unknown>;
  closed: Promise<{ code: number; reason: string }>;
}

function raw(headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }, path = "/rpc"): Promise<Raw> {
  const ws = new WebSocket(svc.rpcUrl.replace("/rpc", path), { headers });
  const inbox: unknown[] = [];
  const waiting: ((m: unknown) => void)[] = [];
  ws.on("message", (data: Buffer) => {
    const m = packr.unpack(data);
    const w = waiting.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    ws.once("open", () =>
      resolve({
        ws,
        closed,
        next: () => (inbox.length > 0 ? Promise.resolve(inbox.shift()) : new Promise((r) => waiting.push(r))),
      }),
    );
    ws.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

async function storedRow() {
  return (await fetch(`${svc.httpUrl}/players/p_keep/stats?create=0`)).json();
}

beforeAll(async () => {
  svc = await startStatsService({ port: 0, db: ":memory:", token: TOKEN });
  const put = await fetch(`${svc.httpUrl}/players/p_keep/stats`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(stored),
  });
  expect(put.status).toBe(200);
  bystander = createStatsClient(svc.rpcUrl, { token: TOKEN });
  expect(await bystander.get("p_keep")).toMatchObject({ ...stored, version: 2 });
});
afterAll(async () => {
  // the bystander's one connection survived everything
  expect(bystander.counters()).toMatchObject({ disconnects: 0, reconnects: 0, protocolErrors: 0 });
  await bystander.close();
  await svc.close();
});

describe("RPC connect", () => {
  it("refuses a missing or wrong token with 401 and an unknown path with 404", async () => {
    await expect(raw({})).rejects.toThrow("HTTP 401");
    await expect(raw({ authorization: "Bearer wrong" })).rejects.toThrow("HTTP 401");
    await expect(raw({ authorization: `Basic ${TOKEN}` })).rejects.toThrow("HTTP 401");
    await expect(raw(undefined, "/other")).rejects.toThrow("HTTP 404");
  });
});

describe("bad frames", () => {
  it("answers each malformed frame with a bad_request error naming the problem", async () => {
    const c = await raw();
    const cases: [Buffer | string, unknown][] = [
      // never-used byte, truncated array: msgpackr may throw or return a partial value; either way refused
      [Buffer.from([0xc1]), [0, expect.objectContaining({ e: "bad_request" })]],
      [Buffer.from([0x92, 0x01]), [0, expect.objectContaining({ e: "bad_request" })]],
      [Buffer.from([0x93, 0x01, 0x01, 0xd9]), [0, { e: "bad_request", m: "frame is not valid msgpack" }]],
      ['[1, 1, "p_1"]', [0, { e: "bad_request", m: "frames must be binary msgpack" }]],
      [packr.pack({ op: 1, id: "p_1" }), [0, expect.objectContaining({ e: "bad_request" })]],
      [packr.pack([1, "x", "p_1"]), [0, expect.objectContaining({ m: expect.stringContaining("reqId") })]],
      [packr.pack([1, -4, "p_1"]), [0, expect.objectContaining({ m: expect.stringContaining("reqId") })]],
      [
        packr.pack([9, 5, "p_1"]),
        [5, expect.objectContaining({ e: "bad_request", m: expect.stringContaining("unknown op") })],
      ],
      [packr.pack(["get", 6, "p_1"]), [6, expect.objectContaining({ m: expect.stringContaining("unknown op") })]],
      [packr.pack([1, 7, 123]), [7, expect.objectContaining({ m: expect.stringContaining("id must be") })]],
      [packr.pack([1, 8, "bad id!"]), [8, expect.objectContaining({ m: expect.stringContaining("id must be") })]],
      [packr.pack([2, 9, "p_1"]), [9, expect.objectContaining({ m: expect.stringContaining("ids must be") })]],
      [packr.pack([2, 10, []]), [10, expect.objectContaining({ m: expect.stringContaining("ids must be") })]],
      [
        packr.pack([2, 11, Array(5000).fill("p_1")]),
        [11, expect.objectContaining({ m: expect.stringContaining("ids must be") })],
      ],
      // an array32 header claiming 4 billion elements, and a bin32 longer than the frame
      [Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]), [0, expect.objectContaining({ e: "bad_request" })]],
      [Buffer.from([0xc6, 0x7f, 0xff, 0xff, 0xff, 0x01]), [0, expect.objectContaining({ e: "bad_request" })]],
    ];
    for (const [frame, expected] of cases) {
      c.ws.send(frame);
      expect(await c.next(), String(frame)).toEqual(expected);
    }
    // per-id errors inside a batch; the good ids are answered
    c.ws.send(packr.pack([2, 12, ["p_keep", 5, "no way", "npc_rat_1"]]));
    const [reqId, items] = (await c.next()) as [number, unknown[]];
    expect(reqId).toBe(12);
    expect(items[0]).toEqual(["p_keep", 7, 222, 33, 11, 99, 222, 7, 2]);
    expect(items[1]).toMatchObject({ e: "bad_request" });
    expect(items[2]).toMatchObject({ e: "bad_request" });
    expect((items[3] as unknown[])[0]).toBe("npc_rat_1");
    // the same connection still serves good frames
    c.ws.send(packr.pack([1, 13, "p_keep"]));
    expect(await c.next()).toEqual([13, ["p_keep", 7, 222, 33, 11, 99, 222, 7, 2]]);
    c.ws.close();
  });

  it("random bytes: each frame is answered or the connection is closed with a reason; the service keeps serving", async () => {
    const rng = new Sfc32(20261125);
    let c = await raw();
    const closes: { code: number; reason: string }[] = [];
    for (let i = 0; i < 200; i++) {
      const frame = Buffer.alloc(1 + rng.nextInt(64));
      for (let j = 0; j < frame.length; j++) frame[j] = rng.nextInt(256);
      c.ws.send(frame);
      const r = await Promise.race([c.next().then(() => "answer" as const), c.closed]);
      if (r !== "answer") {
        closes.push(r);
        c = await raw();
      }
    }
    // every bad frame is answered; only the 100th bad frame of a connection closes it (1008, with
    // its reason), so 200 frames cost one or two connections, not one each
    expect(closes.length).toBeGreaterThanOrEqual(1);
    expect(closes.length).toBeLessThanOrEqual(2);
    expect(closes).toEqual(closes.map(() => ({ code: 1008, reason: "too many malformed frames" })));
    expect(await bystander.get("p_keep")).toMatchObject({ ...stored, version: 2 });
    c.ws.close();
  });

  it("a connection that keeps sending garbage is closed with 1008 and a reason", async () => {
    const c = await raw();
    for (let i = 0; i < 150; i++) c.ws.send(Buffer.from([0xc1]));
    expect(await c.closed).toEqual({ code: 1008, reason: "too many malformed frames" });
  });

  it("an oversized frame closes that connection with 1009; other connections are unaffected", async () => {
    const c = await raw();
    c.ws.send(Buffer.alloc(600 * 1024, 0x90));
    expect((await c.closed).code).toBe(1009);
    expect(await bystander.get("npc_troll_1")).toEqual(deriveStats("npc_troll_1"));
  });

  it("garbage bytes on the HTTP port get a 400 and close; the port keeps serving", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(svc.port, "127.0.0.1", () => sock.write("\x00\xffNOT HTTP AT ALL\r\n\r\n"));
      let text = "";
      sock.on("data", (d) => (text += d.toString("latin1")));
      sock.on("close", () => resolve(text));
      sock.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${svc.httpUrl}/healthz`)).status).toBe(200);
  });

  it("nothing stored was changed by any of it", async () => {
    expect(await storedRow()).toEqual({ id: "p_keep", ...stored, version: 2 });
    const metrics = await (await fetch(`${svc.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/stats_rpc_rejected_frames_total\{reason="msgpack"\} \d+/);
  });
});
