/**
 * Runtime overhead per coroutine: spawn + one call (awaiting an already-resolved promise) + join,
 * side by side with a bare Promise.all of async functions that await once, and with Effection 4.
 * Prints medians (ns per coroutine) and ratios measured in one run. Not a test: never fails on
 * timing. `npm run bench:runtime`, or `benchRuntime()` from bench/main.ts.
 */
import { run, spawn, call, all } from "../server/runtime/index.ts";
import type { Operation, Task } from "../server/runtime/index.ts";
import * as effection from "effection";
import { median } from "./median.ts";

type Runner = (n: number) => Promise<number>;

async function work(i: number): Promise<number> {
  await Promise.resolve(i);
  return i;
}

const promiseAll: Runner = async (n) => {
  const ps = new Array<Promise<number>>(n);
  for (let i = 0; i < n; i++) ps[i] = work(i);
  const xs = await Promise.all(ps);
  return xs.length;
};

function* child(i: number): Operation<number> {
  return yield* call("work", () => Promise.resolve(i));
}

const runtimeSpawnJoin: Runner = async (n) =>
  run(function* () {
    const tasks = new Array<Task<number>>(n);
    for (let i = 0; i < n; i++) tasks[i] = yield* spawn(() => child(i));
    let joined = 0;
    for (let i = 0; i < n; i++) {
      yield* tasks[i];
      joined++;
    }
    return joined;
  });

const runtimeAll: Runner = async (n) =>
  run(function* () {
    const ops = new Array<Operation<number>>(n);
    for (let i = 0; i < n; i++) ops[i] = child(i);
    return (yield* all(ops)).length;
  });

function* effectionChild(i: number): effection.Operation<number> {
  return yield* effection.call(() => Promise.resolve(i));
}

const effectionSpawnJoin: Runner = (n) =>
  effection.run(function* () {
    const tasks = new Array<effection.Task<number>>(n);
    for (let i = 0; i < n; i++) tasks[i] = yield* effection.spawn(() => effectionChild(i));
    let joined = 0;
    for (let i = 0; i < n; i++) {
      yield* tasks[i];
      joined++;
    }
    return joined;
  });

async function nsPerTask(runner: Runner, n: number): Promise<number> {
  const t0 = process.hrtime.bigint();
  const count = await runner(n);
  const dt = Number(process.hrtime.bigint() - t0);
  if (count !== n) throw new Error(`benchmark runner returned ${count}, expected ${n}`);
  return dt / n;
}

interface Row {
  n: number;
  runs: string;
  promiseAll: number;
  runtime: number;
  runtimeAll: number;
  effection: number;
  /** medians over rounds of (runtime sample / Promise.all sample of the same round) */
  runtimeRatio: number;
  runtimeAllRatio: number;
}

/** Median over rounds of a[r] / b[r]: both measured back to back, so slow load drift cancels. */
function pairedRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, r) => x / b[r]));
}

/** Runs the benchmark and returns the result table (markdown). */
export async function benchRuntime(options: { sizes?: number[]; runs?: number } = {}): Promise<string> {
  const sizes = options.sizes ?? [1_000, 100_000];
  const rows: Row[] = [];
  for (const n of sizes) {
    // Small N is quick and noisy: many samples. Effection costs ~50-100 µs per task, so large N
    // gets fewer samples to keep the whole bench around a minute.
    const runs = options.runs ?? (n >= 50_000 ? 11 : 31);
    const effectionRuns = Math.min(runs, n >= 50_000 ? 3 : 11);
    const samples = {
      promiseAll: [] as number[],
      runtime: [] as number[],
      runtimeAll: [] as number[],
      effection: [] as number[],
    };
    for (let w = 0; w < 20; w++) {
      await promiseAll(1_000);
      await runtimeSpawnJoin(1_000);
      await runtimeAll(1_000);
    }
    for (let w = 0; w < 3; w++) await effectionSpawnJoin(1_000);
    // Promise.all and this runtime are interleaved so that machine noise hits both alike, in an
    // order that reverses every round: at N = 100 000 a sample pays for the collection of the
    // previous sample's garbage, and a fixed order would always bill one side for the other's.
    // The ratios are medians of per-round ratios: on a machine shared with other work the load
    // drifts over seconds, and a round's samples, taken back to back, see the same load.
    // Effection runs after them: its garbage (a lot) would otherwise be collected on their clock.
    // No forced GC between samples: measured, a full GC before each sample makes this runtime
    // 2-10x slower (likely V8 re-deciding allocation-site pretenuring and deoptimising the JS
    // that allocates, which the built-ins behind Promise.all escape), so it would measure V8's
    // reaction to gc(), not the runtime.
    const order: [keyof typeof samples, Runner][] = [
      ["promiseAll", promiseAll],
      ["runtime", runtimeSpawnJoin],
      ["runtimeAll", runtimeAll],
    ];
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < order.length; k++) {
        const [name, runner] = order[r % 2 === 0 ? k : order.length - 1 - k];
        samples[name].push(await nsPerTask(runner, n));
      }
    }
    for (let r = 0; r < effectionRuns; r++) samples.effection.push(await nsPerTask(effectionSpawnJoin, n));
    rows.push({
      n,
      runs: `${runs}/${effectionRuns}`,
      promiseAll: median(samples.promiseAll),
      runtime: median(samples.runtime),
      runtimeAll: median(samples.runtimeAll),
      effection: median(samples.effection),
      runtimeRatio: pairedRatio(samples.runtime, samples.promiseAll),
      runtimeAllRatio: pairedRatio(samples.runtimeAll, samples.promiseAll),
    });
  }
  const f = (x: number) => x.toFixed(0);
  const lines = [
    "Runtime overhead: ns per coroutine (spawn + one call + join), medians; the ratios to Promise.all are",
    "medians of per-round ratios (each round measures Promise.all and the runtime back to back)",
    "",
    "| N | runs (Effection) | Promise.all | runtime spawn+join | runtime all() | Effection 4 | spawn+join / Promise.all | all() / Promise.all | Effection / runtime |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map(
      (r) =>
        `| ${r.n} | ${r.runs} | ${f(r.promiseAll)} | ${f(r.runtime)} | ${f(r.runtimeAll)} | ${f(r.effection)} | ` +
        `${r.runtimeRatio.toFixed(2)}x | ${r.runtimeAllRatio.toFixed(2)}x | ${(r.effection / r.runtime).toFixed(0)}x |`,
    ),
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  console.log(`node ${process.version}`);
  console.log(await benchRuntime());
}
