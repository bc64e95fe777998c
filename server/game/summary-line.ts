/** The info line every SUMMARY_EVERY_S seconds (0 = off): rooms, CCU and the round counters. */
import type { Logger } from "../observability/log.ts";
import type { GameMetrics } from "./metrics.ts";

/** Starts the line's timer (unref'd: it never keeps the process alive); returns its stop. */
export function startSummaryLine(
  everyS: number,
  log: Logger,
  metrics: GameMetrics,
  fields: () => Record<string, unknown>,
): () => void {
  if (everyS <= 0) return () => {};
  const timer = setInterval(() => {
    log.info("summary", {
      ...fields(),
      rounds: metrics.roundsTotal.get(),
      overruns: metrics.overruns.get(),
      stale: metrics.staleEntities.get(),
      absent: metrics.absentEntities.get(),
      journalRounds: metrics.journalRounds.get(),
    });
  }, everyS * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
