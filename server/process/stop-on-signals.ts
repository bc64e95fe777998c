import type { Logger } from "../observability/log.ts";
import { exitWithParent } from "./exit-with-parent.ts";

/**
 * Stops a supervisor once, on SIGINT, SIGTERM or the death of this process's parent: the one
 * shutdown trigger of `npm start` and `npm run start:cluster`. Never throws; a second signal while
 * stopping is ignored (the supervisor's own grace bounds the stop).
 * @returns whether a stop has begun, for work of the caller's that must not start again meanwhile
 */
export function stopOnSignals(supervisor: { stop(): Promise<unknown> }, log: Logger): () => boolean {
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { why });
    void supervisor.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => stop(signal));
  exitWithParent(() => stop("parent exited"));
  return () => stopping;
}
