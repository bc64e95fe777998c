/**
 * --workers K: K child processes (real CPU parallelism for SDK state decoding), each running
 * its share of the bots with runFleet and streaming snapshots back over IPC.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { workerOf, type FleetPlan } from "./fleet.ts";
import { emptySnapshot, type MetricsSnapshot } from "./metrics.ts";
import type { SteadyState } from "./steady-state.ts";

export type WorkerMessage =
  { kind: "ready" } | { kind: "tick"; snap: MetricsSnapshot } | { kind: "done"; snap: MetricsSnapshot };
export interface WorkerStart {
  plan: FleetPlan;
  verbose: boolean;
  name: string;
}
/** main -> worker after the start: the run's steady state begins at `at` (epoch ms) */
export interface SteadyMessage {
  kind: "steady";
  at: number;
}

const WORKER_FILE = fileURLToPath(new URL("./worker.ts", import.meta.url));

/** A worker's start may come this soon after the last worker said it is ready. */
const START_LEAD_MS = 50;

/**
 * Resolves with one final snapshot per worker, and the run's start (epoch ms). The run starts at
 * `plan.startAt`, or once every worker has loaded if that is later: on a loaded machine a worker
 * takes seconds to load, and a clock started before would eat its bots' run. A worker that dies
 * or overruns `deadline` (epoch ms) is killed and contributes its last interim snapshot plus a
 * `worker:*` error. `steady` learns every worker's joins; when the last bot has joined, its start
 * is sent to every worker.
 */
export function runWorkers(
  plan: Omit<FleetPlan, "indices">,
  workers: number,
  verbose: boolean,
  deadline: number,
  onTick: (worker: number, snap: MetricsSnapshot) => void,
  steady: SteadyState,
): Promise<{ startAt: number; finals: MetricsSnapshot[] }> {
  const joins = new Array<number>(workers).fill(0);
  const children: ChildProcess[] = [];
  const shares: number[][] = Array.from({ length: workers }, () => []);
  for (let i = 0; i < plan.totalBots; i++) shares[workerOf(i, workers, plan.rooms)].push(i);
  let startAt = plan.startAt;
  let arrived = 0;
  const starts: (() => void)[] = [];
  /** a worker is loaded (or died loading): once all are, every live one gets its start */
  const arrive = () => {
    if (++arrived < workers) return;
    startAt = Math.max(plan.startAt, Date.now() + START_LEAD_MS);
    for (const start of starts) start();
  };
  const finals = Promise.all(
    shares.map(
      (indices, w) =>
        new Promise<MetricsSnapshot>((resolve) => {
          const child: ChildProcess = fork(WORKER_FILE, [], {
            execPath: process.execPath,
            stdio: ["ignore", "inherit", "inherit", "ipc"],
          });
          children.push(child);
          let last = emptySnapshot();
          let done: MetricsSnapshot | null = null;
          let loaded = false;
          // a send to a worker that just died fails with EPIPE; its exit (below) reports the death
          child.on("error", () => {});
          const killer = setTimeout(() => child.kill("SIGKILL"), Math.max(0, deadline - Date.now()));
          child.on("message", (m: WorkerMessage) => {
            if (m.kind === "ready") {
              loaded = true;
              arrive();
            } else if (m.kind === "tick") {
              last = m.snap;
              onTick(w, m.snap);
              joins[w] = m.snap.counters.joins;
              if (
                steady.joined(
                  joins.reduce((a, b) => a + b, 0),
                  plan.totalBots,
                )
              ) {
                const message: SteadyMessage = { kind: "steady", at: steady.at };
                for (const c of children) if (c.connected) c.send(message);
              }
            } else {
              done = m.snap;
            }
          });
          child.on("exit", (code, signal) => {
            clearTimeout(killer);
            if (!loaded) arrive();
            if (done !== null) return resolve(done);
            last.errors[`worker:${signal ?? `exit_${code}`}`] = 1;
            resolve(last);
          });
          // a worker that died before it started sends nothing more: its exit resolves it
          starts.push(() => {
            const start: WorkerStart = { plan: { ...plan, startAt, indices }, verbose, name: `worker${w}` };
            if (child.connected) child.send(start);
          });
        }),
    ),
  );
  return finals.then((snaps) => ({ startAt, finals: snaps }));
}
