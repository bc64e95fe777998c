/**
 * Keeps the round journal within its retention bounds: every `everyS` seconds, the rows older
 * than `maxAgeS` go, then the oldest while the journal uses more than `maxBytes` (0 = no bound
 * of that kind). One batch of PRUNE_BATCH rows per event-loop turn, so rounds interleave with a
 * large prune instead of waiting for it; at most MAX_BATCHES per run (the next run continues).
 * Pruned rows are counted (skirmish_journal_pruned_rows_total) and each run that pruned logs one
 * info line; a failing prune is counted and logged, and retried at the next run.
 *
 * In a cluster, `goneJournals` names the journal files of processes that no longer exist (a
 * restarted process journals into a new file): after its own journal, a run prunes those as one
 * more journal under the same bounds: their rows older than `maxAgeS`, then the oldest rows among
 * them all while together they use more than `maxBytes`; a file left without rows is deleted
 * (with SQLite's companions), counted in skirmish_journal_files_removed_total. What is kept
 * replays as before (`npm run replay -- data/journal-*.db`).
 * `stop()` ends it; a run in progress stops after its current batch.
 */
import { rmSync } from "node:fs";
import { RoundJournal } from "./round-journal.ts";
import type { GameMetrics } from "../metrics.ts";
import { errorFields, type Logger } from "../../observability/log.ts";

export interface RetentionPolicy {
  maxAgeS: number;
  maxBytes: number;
  everyS: number;
}

const PRUNE_BATCH = 500;
const MAX_BATCHES = 200;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export function startJournalRetention(
  journal: RoundJournal,
  policy: RetentionPolicy,
  metrics: GameMetrics,
  log: Logger,
  goneJournals?: () => Promise<string[]>,
): { stop(): void } {
  let stopped = false;
  let running = false;
  const run = async () => {
    if (running || stopped || (policy.maxAgeS === 0 && policy.maxBytes === 0)) return;
    running = true;
    const before = policy.maxAgeS > 0 ? Date.now() - policy.maxAgeS * 1000 : 0;
    const pass: RetentionPass = { before, policy, metrics, log, stopped: () => stopped };
    try {
      await pruneOwn(journal, pass);
      if (goneJournals && !stopped) await pruneGone(await goneJournals(), pass);
    } catch (err) {
      metrics.errors.inc("journal_prune");
      log.error("journal prune failed", errorFields(err));
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void run(), policy.everyS * 1000);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** One run's bounds (rows before `before` go, then the oldest over `policy.maxBytes`) and what it reports to. */
interface RetentionPass {
  before: number;
  policy: RetentionPolicy;
  metrics: GameMetrics;
  log: Logger;
  stopped(): boolean;
}

async function pruneOwn(journal: RoundJournal, pass: RetentionPass): Promise<void> {
  const { metrics } = pass;
  let pruned = 0;
  for (let batches = 0; batches < MAX_BATCHES && !pass.stopped() && !journal.isClosed; batches++) {
    const n = journal.prune(pass.before, pass.policy.maxBytes, PRUNE_BATCH);
    pruned += n;
    metrics.journalPruned.inc(undefined, n);
    if (n === 0) break;
    await nextTurn();
  }
  if (pruned > 0)
    pass.log.info("journal pruned", { rows: pruned, usedBytes: journal.isClosed ? undefined : journal.usedBytes() });
}

async function pruneGone(paths: string[], pass: RetentionPass): Promise<void> {
  const journals = openGone(paths, pass);
  let pruned: number;
  let removed: number;
  try {
    pruned = await pruneTogether(journals, pass);
    removed = removeEmpty(journals, pass.metrics);
  } finally {
    for (const j of journals) j.close();
  }
  if (pruned > 0 || removed > 0)
    pass.log.info("journals of gone processes pruned", { files: journals.length, rows: pruned, filesRemoved: removed });
}

function openGone(paths: string[], { metrics, log }: RetentionPass): RoundJournal[] {
  const journals: RoundJournal[] = [];
  for (const path of paths) {
    try {
      journals.push(new RoundJournal(path));
    } catch (err) {
      metrics.errors.inc("journal_prune");
      log.error("cannot open the journal of a gone process to prune it", { path, ...errorFields(err) });
    }
  }
  return journals;
}

/** The gone journals as one: each one's old rows, then the oldest rows of all while over the byte bound. */
async function pruneTogether(journals: RoundJournal[], pass: RetentionPass): Promise<number> {
  let pruned = 0;
  let batches = 0;
  const more = () => batches < MAX_BATCHES && !pass.stopped();
  /** counts a batch; true when it pruned something */
  const counted = (n: number) => {
    pruned += n;
    pass.metrics.journalPruned.inc(undefined, n);
    batches++;
    return n > 0;
  };
  for (const j of journals) {
    while (more() && counted(j.prune(pass.before, 0, PRUNE_BATCH))) await nextTurn();
  }
  // the byte bound over all of them: the oldest rows first, whichever file holds them
  while (pass.policy.maxBytes > 0 && more()) {
    if (journals.reduce((n, j) => n + j.usedBytes(), 0) <= pass.policy.maxBytes) break;
    const oldest = journals
      .map((j) => ({ j, at: j.oldestAtMs() }))
      .filter((o) => o.at !== undefined)
      .sort((x, y) => x.at! - y.at!)[0];
    if (oldest === undefined || !counted(oldest.j.pruneOldest(PRUNE_BATCH))) break;
    await nextTurn();
  }
  return pruned;
}

/** Deletes the files left without rows (with SQLite's companions); how many. */
function removeEmpty(journals: RoundJournal[], metrics: GameMetrics): number {
  let removed = 0;
  for (const j of journals) {
    if (j.oldestAtMs() !== undefined) continue;
    j.close();
    for (const suffix of ["", "-wal", "-shm"]) rmSync(j.path + suffix, { force: true });
    metrics.journalFilesRemoved.inc();
    removed++;
  }
  return removed;
}
