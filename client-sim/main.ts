/**
 * client-sim entry: `npm run sim -- --url ws://127.0.0.1:2567 --bots 500 --duration 60 ...`.
 * Exit codes: 0 ok, 1 error rate above --max-error-rate or server unreachable, 2 bad usage,
 * 3 hard stop (the run did not finish in time).
 */
import { writeFileSync } from "node:fs";
import { runFleet, type FleetPlan } from "./fleet.ts";
import { mergeSnapshots, type MetricsSnapshot } from "./metrics.ts";
import { helpText, parseOptions, UsageError, type SimOptions } from "./options.ts";
import { Progress } from "./progress.ts";
import { buildReport, formatReport } from "./report.ts";
import { SteadyState } from "./steady-state.ts";
import { runWorkers } from "./workers.ts";

/** time the workers get to boot before the common ramp starts */
const BOOT_MS = 300;
/** after the run's end, bots get this long to leave before everything is killed */
const HARD_STOP_GRACE_MS = 20_000;
const PROBE_TIMEOUT_MS = 3_000;

/** One HTTP request before starting hundreds of bots, so a wrong URL is one clear error. */
async function probe(httpUrl: string): Promise<string | null> {
  try {
    const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await res.body?.cancel();
    return null;
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string; message?: string }; message?: string };
    return e.name === "TimeoutError"
      ? `no answer within ${PROBE_TIMEOUT_MS} ms`
      : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
  }
}

async function run(opts: SimOptions): Promise<number> {
  const unreachable = await probe(opts.httpUrl);
  if (unreachable !== null) {
    process.stderr.write(
      `client-sim: cannot reach the game server at ${opts.httpUrl} (${unreachable}); is it running?\n`,
    );
    return 1;
  }
  let startAt = Date.now() + (opts.workers > 1 ? BOOT_MS : 0);
  const deadline = startAt + opts.durationS * 1000 + HARD_STOP_GRACE_MS;
  const hardStop = setTimeout(
    () => {
      process.stderr.write("client-sim: hard stop, the run did not finish within its time bound\n");
      process.exit(3);
    },
    deadline - Date.now() + 2_000,
  );
  hardStop.unref();

  const plan: Omit<FleetPlan, "indices"> = {
    totalBots: opts.bots,
    startAt,
    rampS: opts.rampS,
    durationS: opts.durationS,
    seed: opts.seed,
    url: opts.url,
    httpUrl: opts.httpUrl,
    scenario: opts.scenario,
    rooms: opts.rooms,
    client: opts.client,
  };
  const progress = new Progress(opts.bots);
  // the ramp's end as planned: a late start of the workers (runWorkers) moves the last join later too
  const steady = new SteadyState(startAt + opts.rampS * 1000);
  let finals: MetricsSnapshot[];
  if (opts.workers > 1) {
    ({ startAt, finals } = await runWorkers(
      plan,
      opts.workers,
      opts.verbose,
      deadline,
      (w, snap) => progress.update(w, snap),
      steady,
    ));
  } else {
    const indices = Array.from({ length: opts.bots }, (_, i) => i);
    const onTick = (snap: MetricsSnapshot) => {
      progress.update(0, snap);
      steady.joined(snap.counters.joins, opts.bots);
    };
    finals = [await runFleet({ ...plan, indices }, opts.verbose, "sim", onTick, steady)];
  }
  progress.stop();
  const elapsedS = (Date.now() - startAt) / 1000;
  const steadyAt = Number.isFinite(steady.at) ? steady.at : null;
  const report = buildReport(opts, mergeSnapshots(finals), startAt, elapsedS, steadyAt);
  process.stdout.write(formatReport(report));
  if (opts.json !== null) {
    try {
      writeFileSync(opts.json, JSON.stringify(report, null, 2) + "\n");
    } catch (err) {
      process.stderr.write(`client-sim: cannot write the --json report: ${(err as Error).message}\n`);
      return 1;
    }
  }
  return report.ok ? 0 : 1;
}

async function main(): Promise<number> {
  let opts: SimOptions | null;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`client-sim: ${err.message}\n`);
    return 2;
  }
  if (opts === null) {
    process.stdout.write(helpText());
    return 0;
  }
  return run(opts);
}

// exit explicitly: keep-alive HTTP sockets of the SDK's fetch must not keep the process alive
main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`client-sim: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
