/**
 * Keeps the round journal within its retention bounds: every `everyS` seconds, the rows older
 * than `maxAgeS` go, then the oldest while the journal uses more than `maxBytes` (0 = no bound
 * of that kind). One batch of PRUNE_BATCH rows per event-loop turn, so rounds interleave with a
 * large prune instead of waiting for it; at most MAX_BATCHES per run (the next run continues).
 * Pruned rows are counted (skirmish_journal_pruned_rows_total) and each run that pruned logs one
 * info line; a failing prune is counted and logged, and retried at the next run.
 * `stop()` ends it; a run in progress stops after its current batch.
 */
import type { RoundJournal } from "./round-journal.ts";
import type { GameMetrics } from "../metrics.ts";
import { errorFields, type Logger } from "../../observability/log.ts";

export interface RetentionPolicy {
  maxAgeS: number;
  maxBytes: number;
  everyS: number;
}

const PRUNE_BATCH = 500;
const MAX_BATCHES = 200;

export function startJournalRetention(
  journal: RoundJournal,
  policy: RetentionPolicy,
  metrics: GameMetrics,
  log: Logger,
): { stop(): void } {
  let stopped = false;
  let running = false;
  const run = () => {
    if (running || stopped || (policy.maxAgeS === 0 && policy.maxBytes === 0)) return;
    running = true;
    const before = policy.maxAgeS > 0 ? Date.now() - policy.maxAgeS * 1000 : 0;
    let pruned = 0;
    let batches = 0;
    const step = () => {
      try {
        const n = stopped || journal.isClosed ? 0 : journal.prune(before, policy.maxBytes, PRUNE_BATCH);
        pruned += n;
        metrics.journalPruned.inc(undefined, n);
        if (n > 0 && ++batches < MAX_BATCHES) return void setImmediate(step);
        if (pruned > 0)
          log.info("journal pruned", { rows: pruned, usedBytes: journal.isClosed ? undefined : journal.usedBytes() });
      } catch (err) {
        metrics.errors.inc("journal_prune");
        log.error("journal prune failed", errorFields(err));
      }
      running = false;
    };
    step();
  };
  const timer = setInterval(run, policy.everyS * 1000);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
