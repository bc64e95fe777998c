/**
 * The journal files of a cluster's processes that share one JOURNAL_PATH: `data/journal.db` →
 * `data/journal-<processId>.db` (journalPathOf). Lists the ones in that directory, so the files of
 * processes that no longer exist can be pruned (journal-retention.ts). SQLite's companions
 * (`-wal`, `-shm`, `-journal`) are not journals of their own.
 */
import { readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { journalPathOf } from "./round-journal.ts";

export interface ProcessJournalFile {
  processId: string;
  path: string;
}

/** Colyseus's process ids (generateId) */
const PROCESS_ID = /^[A-Za-z0-9_-]+$/;
const COMPANION = /-(wal|shm|journal)$/;

/** Every `<stem>-<processId><ext>` beside `journalPath` (none for `:memory:` or a missing directory). */
export async function processJournalFiles(journalPath: string): Promise<ProcessJournalFile[]> {
  if (journalPath === ":memory:") return [];
  // the naming is journalPathOf's: what goes before and after the id
  const [prefix, suffix] = basename(journalPathOf(journalPath, "\0")).split("\0");
  const dir = dirname(journalPath);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  const files: ProcessJournalFile[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix) || COMPANION.test(name)) continue;
    const processId = name.slice(prefix.length, name.length - suffix.length);
    if (PROCESS_ID.test(processId)) files.push({ processId, path: join(dir, name) });
  }
  return files;
}
