/**
 * Which journal files beside this process's belong to processes that no longer exist (a crashed
 * or restarted process never comes back: a new start is a new process id), for journal retention
 * to prune (journal-retention.ts). A process is gone when it has no IPC channel (`p:<id>`) and
 * does not answer Colyseus's health check (2 s), as for its seats, at two runs in a row: a live
 * process briefly without its channel (Redis restarted, not yet resubscribed) is never taken for
 * gone. Once gone, always gone (remembered, not asked again).
 *
 * One process prunes them: of the live processes with a journal in the directory, the one with
 * the lowest id; the others get none, so two processes never prune one file at once. While Redis
 * is away nobody can tell who is gone: none.
 */
import { matchMaker } from "@colyseus/core";
import { processJournalFiles } from "../journal/process-journal-files.ts";

/** `journalPath`: JOURNAL_PATH as configured (this process journals into journalPathOf(it, processId)). */
export function goneProcessJournals(
  journalPath: string,
  processId: string,
  cluster: { redisUp(): boolean },
): () => Promise<string[]> {
  const gone = new Set<string>();
  /** silent at the last run: gone if still silent now */
  let suspects = new Set<string>();
  return async () => {
    if (!cluster.redisUp()) {
      suspects = new Set();
      return [];
    }
    const files = (await processJournalFiles(journalPath)).filter((f) => f.processId !== processId);
    const live = new Set((await matchMaker.presence.channels("p:*")).map((channel) => channel.slice(2)));
    const unsure = files.map((f) => f.processId).filter((id) => !gone.has(id) && !live.has(id));
    const answered = await Promise.all(unsure.map((id) => matchMaker.healthCheckProcessId(id)));
    const silent = new Set<string>();
    unsure.forEach((id, i) => {
      if (answered[i]) live.add(id);
      else if (suspects.has(id)) gone.add(id);
      else silent.add(id);
    });
    suspects = silent;
    if (files.some((f) => live.has(f.processId) && f.processId < processId)) return [];
    return files.filter((f) => gone.has(f.processId)).map((f) => f.path);
  };
}
