// Pure parts of client-sim: flag parsing, histogram encode/merge, snapshot merging.
import { describe, expect, it } from "vitest";
import {
  decodeHistogram,
  encodeHistogram,
  mergeEncoded,
  newHistogram,
  recordMs,
  summarize,
} from "../../client-sim/histogram.ts";
import { Metrics, mergeSnapshots } from "../../client-sim/metrics.ts";
import { helpText, parseOptions, UsageError } from "../../client-sim/options.ts";
import { workerOf } from "../../client-sim/fleet.ts";
import { SlotTimer } from "../../client-sim/slot-timer.ts";
import { SETTLE_MS, SteadyState } from "../../client-sim/steady-state.ts";

describe("options", () => {
  it("has documented defaults", () => {
    const o = parseOptions([])!;
    expect(o).toMatchObject({
      url: "ws://127.0.0.1:2567",
      httpUrl: "http://127.0.0.1:2567",
      bots: 100,
      durationS: 60,
      rampS: 10,
      rooms: "auto",
      seed: 1,
      json: null,
      workers: 1,
      scenario: "aggressive",
      client: "sdk",
      maxErrorRate: 0.01,
      allowRemote: false,
    });
  });

  it("parses every flag, both --flag v and --flag=v", () => {
    const o = parseOptions([
      "--url=wss://localhost:9000/game",
      "--bots",
      "7",
      "--duration",
      "3",
      "--ramp=0.5",
      "--rooms",
      "2",
      "--seed",
      "42",
      "--json",
      "/tmp/x.json",
      "--workers",
      "3",
      "--scenario",
      "garbage",
      "--client",
      "thin",
      "--max-error-rate",
      "0.5",
      "--verbose",
    ])!;
    expect(o).toMatchObject({
      url: "wss://localhost:9000/game",
      httpUrl: "https://localhost:9000/game",
      bots: 7,
      durationS: 3,
      rampS: 0.5,
      rooms: 2,
      seed: 42,
      json: "/tmp/x.json",
      workers: 3,
      scenario: "garbage",
      client: "thin",
      maxErrorRate: 0.5,
      verbose: true,
    });
  });

  it.each([
    [["--bogus"], /unknown flag --bogus/],
    [["--bots", "abc"], /--bots: expected an integer/],
    [["--bots", "0"], /--bots: expected an integer/],
    [["--bots"], /--bots needs a value/],
    [["--duration", "5", "--ramp", "6"], /--ramp .* must not exceed --duration/],
    [["--rooms", "many"], /--rooms: expected an integer/],
    [["--scenario", "chaos"], /--scenario: expected one of aggressive, passive, reconnect-storm, garbage/],
    [["--client", "fat"], /--client: expected one of sdk, thin/],
    [["--url", "http://127.0.0.1:2567"], /expected ws:\/\/ or wss:\/\//],
    [["--url", "ws://example.com:2567"], /not a loopback address.*--allow-remote/],
    [["--url", "ws://10.0.0.1:2567"], /not a loopback address/],
    [["--max-error-rate", "2"], /--max-error-rate: expected a number in \[0, 1\]/],
    [["stray"], /unexpected argument/],
  ])("refuses %j", (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it("allows a remote URL only with --allow-remote, loopback forms always", () => {
    expect(parseOptions(["--url", "ws://example.com:2567", "--allow-remote"])!.httpUrl).toBe("http://example.com:2567");
    for (const host of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]"]) {
      expect(parseOptions(["--url", `ws://${host}:1234`])!.url).toBe(`ws://${host}:1234`);
    }
  });

  it("--help lists every flag with its default", () => {
    const help = helpText();
    for (const flag of [
      "url",
      "bots",
      "duration",
      "ramp",
      "rooms",
      "seed",
      "json",
      "workers",
      "scenario",
      "max-error-rate",
      "allow-remote",
      "verbose",
      "help",
    ]) {
      expect(help).toContain(`--${flag}`);
    }
    expect(help).toContain("(default: 0.01)");
    expect(parseOptions(["--bots", "5", "--help"])).toBeNull();
  });
});

describe("histograms", () => {
  it("survive encoding and merge by adding counts", () => {
    const a = newHistogram();
    const b = newHistogram();
    for (let i = 1; i <= 100; i++) recordMs(a, i); // 1..100 ms
    for (let i = 0; i < 100; i++) recordMs(b, 1000); // 100 x 1 s
    const merged = mergeEncoded([encodeHistogram(a), encodeHistogram(b), ""]);
    const s = summarize(merged);
    expect(s.count).toBe(200);
    expect(s.p50).toBeCloseTo(100, 0);
    expect(s.p99).toBeCloseTo(1000, 0);
    expect(s.max).toBeCloseTo(1000, 0);
    expect(summarize(decodeHistogram(encodeHistogram(a))).p90).toBeCloseTo(90, 0);
  });

  it("summarizes an empty histogram as zeros and clamps silly values", () => {
    expect(summarize(newHistogram())).toEqual({ count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0, stddev: 0 });
    const h = newHistogram();
    recordMs(h, -5);
    recordMs(h, 1e12);
    expect(h.totalCount).toBe(2);
  });
});

describe("metrics", () => {
  it("counts a room's rounds once per process and once across processes", () => {
    const a = new Metrics();
    const b = new Metrics();
    for (const m of [a, b])
      for (let r = 1; r <= 10; r++) {
        m.roundSeen("roomX", r, r > 4);
        m.roundSeen("roomX", r, r > 4);
      }
    b.roundSeen("roomY", 1, true);
    a.count("intentsSent", 3);
    b.count("intentsSent", 4);
    a.error("server:bad_intent");
    b.error("server:bad_intent");
    b.error("server:bad_intent", true);
    a.record("latency", 10);
    b.record("latency", 20);
    const m = mergeSnapshots([a.snapshot(true), b.snapshot(true)]);
    expect(m.rooms).toBe(2);
    expect(m.rounds).toBe(11);
    expect(m.roundsSteady).toBe(7);
    expect(m.counters.intentsSent).toBe(7);
    expect(m.errors).toEqual({ "server:bad_intent": 2 });
    expect(m.expected).toEqual({ "server:bad_intent": 1 });
    expect(m.histograms.latency.totalCount).toBe(2);
  });

  it("interim snapshots carry only the latency window since the previous one", () => {
    const m = new Metrics();
    m.record("latency", 5);
    const first = m.snapshot(false);
    expect(first.histograms.latency).toBe("");
    expect(decodeHistogram(first.window).totalCount).toBe(1);
    expect(decodeHistogram(m.snapshot(false).window).totalCount).toBe(0);
    expect(decodeHistogram(m.snapshot(true).histograms.latency).totalCount).toBe(1);
  });
});

describe("worker split", () => {
  it("keeps a fixed room's bots in one process and spreads auto bots evenly", () => {
    const rooms = 5;
    for (let i = 0; i < 100; i++) expect(workerOf(i, 2, rooms)).toBe(workerOf(i % rooms, 2, rooms));
    const counts = [0, 0, 0];
    for (let i = 0; i < 99; i++) counts[workerOf(i, 3, "auto")]++;
    expect(counts).toEqual([33, 33, 33]);
  });
});

describe("steady state", () => {
  it("begins only once every bot has joined, SETTLE_MS later, and never before the ramp's end", () => {
    const rampEnd = Date.now() - 1_000; // the ramp is over, joins still lag it
    const steady = new SteadyState(rampEnd);
    expect(steady.joined(9, 10)).toBe(false);
    expect(steady.at).toBe(Infinity);
    expect(steady.begun).toBe(false);
    const before = Date.now();
    expect(steady.joined(10, 10)).toBe(true);
    expect(steady.at).toBeGreaterThanOrEqual(before + SETTLE_MS);
    expect(steady.begun).toBe(false);
    const at = steady.at;
    expect(steady.joined(10, 10)).toBe(false); // decided once: later ticks do not move it
    expect(steady.at).toBe(at);

    const early = new SteadyState(Date.now() + 60_000); // every bot joined before the ramp's end
    early.joined(3, 3);
    expect(early.at).toBeGreaterThanOrEqual(Date.now() + 59_000);

    const worker = new SteadyState(rampEnd);
    worker.begin(Date.now() - 1);
    expect(worker.begun).toBe(true);
  });
});

describe("SlotTimer", () => {
  it("runs each callback no earlier than asked, and callbacks due in one slot under one timer", async () => {
    const timer = new SlotTimer();
    const asked: { due: number; ranAt: number; tick: number }[] = [];
    let ticks = 0;
    let lastTickAt = -1;
    await new Promise<void>((done) => {
      let left = 60;
      for (let i = 0; i < 60; i++) {
        const ms = (i * 7) % 45;
        const entry = { due: performance.now() + ms, ranAt: 0, tick: 0 };
        asked.push(entry);
        timer.after(ms, () => {
          entry.ranAt = performance.now();
          // callbacks run back to back within a slot: a new tick is a new Node timer
          if (entry.ranAt - lastTickAt > 1) ticks++;
          lastTickAt = entry.ranAt;
          entry.tick = ticks;
          if (--left === 0) done();
        });
      }
    });
    for (const a of asked) expect(a.ranAt).toBeGreaterThanOrEqual(a.due);
    // 60 callbacks over ~45 ms fall into a handful of 10 ms slots
    expect(new Set(asked.map((a) => a.tick)).size).toBeLessThanOrEqual(6);
  });
});
