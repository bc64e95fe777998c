/**
 * The replay route's worker thread (started by replay-thread.ts): turns journal rows into a
 * replay page's JSON bytes (journal/replay-page.ts), so that replaying, the costly part of a
 * replay request (decoding and re-resolving up to 100 rounds), never runs on the thread that runs
 * rounds. Jobs run one after another, in the order they came.
 *
 * On Linux the thread lowers its own scheduling priority to the least (nice 19: Linux keeps a nice
 * value per thread), so on a busy machine it takes only the CPU the round thread leaves; it does
 * so before loading the replay code, whose compiling is work too.
 */
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import type { StoredRound } from "../journal/round-journal.ts";

// elsewhere pid 0 would be the whole process, the round thread with it
if (parentPort !== null && process.platform === "linux") setPriority(19);
const { replayPage } = await import("../journal/replay-page.ts");

export interface PageJob {
  id: number;
  room: string;
  limit: number;
  rows: StoredRound[];
}

export type PageDone = { id: number; body: Uint8Array } | { id: number; error: string };

async function render(job: PageJob): Promise<PageDone> {
  try {
    const page = await replayPage(job.room, job.rows, job.limit);
    return { id: job.id, body: new TextEncoder().encode(JSON.stringify(page)) };
  } catch (err) {
    return { id: job.id, error: err instanceof Error ? err.message : String(err) };
  }
}

const port = parentPort;
if (port !== null) {
  let queue = Promise.resolve();
  port.on("message", (job: PageJob) => {
    queue = queue.then(async () => {
      const done = await render(job);
      // the page's bytes move to the main thread instead of being copied
      port.postMessage(done, "body" in done ? [done.body.buffer as ArrayBuffer] : []);
    });
  });
}
