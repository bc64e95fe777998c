/**
 * --workers K: K child processes (real CPU parallelism for SDK state decoding), each running
 * its share of the bots with runFleet and streaming snapshots back over IPC.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { workerOf, type FleetPlan } from "./fleet.ts";
import { emptySnapshot, type MetricsSnapshot } from "./metrics.ts";

export type WorkerMessage = { kind: "tick"; snap: MetricsSnapshot } | { kind: "done"; snap: MetricsSnapshot };
export interface WorkerStart {
  plan: FleetPlan;
  verbose: boolean;
  name: string;
}

const WORKER_FILE = fileURLToPath(new URL("./worker.ts", import.meta.url));

/**
 * Resolves with one final snapshot per worker. A worker that dies or overruns `deadline` (epoch
 * ms) is killed and contributes its last interim snapshot plus a `worker:*` error.
 */
export function runWorkers(
  plan: Omit<FleetPlan, "indices">,
  workers: number,
  verbose: boolean,
  deadline: number,
  onTick: (worker: number, snap: MetricsSnapshot) => void,
): Promise<MetricsSnapshot[]> {
  const shares: number[][] = Array.from({ length: workers }, () => []);
  for (let i = 0; i < plan.totalBots; i++) shares[workerOf(i, workers, plan.rooms)].push(i);
  return Promise.all(
    shares.map(
      (indices, w) =>
        new Promise<MetricsSnapshot>((resolve) => {
          const child: ChildProcess = fork(WORKER_FILE, [], {
            execPath: process.execPath,
            stdio: ["ignore", "inherit", "inherit", "ipc"],
          });
          let last = emptySnapshot();
          let done: MetricsSnapshot | null = null;
          const killer = setTimeout(() => child.kill("SIGKILL"), Math.max(0, deadline - Date.now()));
          child.on("message", (m: WorkerMessage) => {
            if (m.kind === "tick") {
              last = m.snap;
              onTick(w, m.snap);
            } else {
              done = m.snap;
            }
          });
          child.on("exit", (code, signal) => {
            clearTimeout(killer);
            if (done !== null) return resolve(done);
            last.errors[`worker:${signal ?? `exit_${code}`}`] = 1;
            resolve(last);
          });
          const start: WorkerStart = { plan: { ...plan, indices }, verbose, name: `worker${w}` };
          child.send(start);
        }),
    ),
  );
}
