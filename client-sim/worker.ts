/** Child-process entry of --workers: runs the bots it is sent and reports back over IPC. */
import { runFleet } from "./fleet.ts";
import { SteadyState } from "./steady-state.ts";
import type { SteadyMessage, WorkerMessage, WorkerStart } from "./workers.ts";

process.once("message", async (start: WorkerStart) => {
  const send = (m: WorkerMessage, then?: () => void) => process.send?.(m, undefined, undefined, then);
  const steady = new SteadyState(start.plan.startAt + start.plan.rampS * 1000);
  process.on("message", (m: SteadyMessage) => {
    if (m.kind === "steady") steady.begin(m.at);
  });
  const final = await runFleet(start.plan, start.verbose, start.name, (snap) => send({ kind: "tick", snap }), steady);
  // open keep-alive sockets must not hold the process: the report is all that is left to deliver
  send({ kind: "done", snap: final }, () => process.exit(0));
});
// loaded: the run's clock may start (see runWorkers)
process.send?.({ kind: "ready" } satisfies WorkerMessage);
