/**
 * A burst of oversized HTTP bodies at one server, all at once on raw sockets (http-body.ts): the
 * i-th goes to matchmaking or the guest route in turn, half of them chunked, half declared by
 * Content-Length. Meanwhile the server process's resident memory is sampled every 20 ms from
 * /proc (Linux), so the caller sees whether the server buffered what it was offered.
 *
 * Errors: rejects only when `pid`'s /proc status cannot be read (not Linux, or no such process);
 * a refused or reset body is a result (sendBody never rejects). Cancellation: none; each body
 * ends when the server closes it or after sendBody's timeout.
 */
import { readFileSync } from "node:fs";
import { sendBody, type BodyAttackResult } from "./http-body.ts";

export interface OversizedBodies {
  host: string;
  port: number;
  /** the server process whose memory is watched */
  pid: number;
  count: number;
  bytes: number;
}

export interface OversizedBodiesResult {
  results: BodyAttackResult[];
  rssBeforeMb: number;
  /** the largest RSS sampled during the burst, and once after it */
  rssPeakMb: number;
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

export async function sendOversizedBodies(a: OversizedBodies): Promise<OversizedBodiesResult> {
  const rssBeforeMb = rssMb(a.pid);
  let rssPeakMb = rssBeforeMb;
  const poll = setInterval(() => (rssPeakMb = Math.max(rssPeakMb, rssMb(a.pid))), 20);
  try {
    const results = await Promise.all(
      Array.from({ length: a.count }, (_, i) =>
        sendBody({
          host: a.host,
          port: a.port,
          path: i % 2 ? "/auth/guest" : "/matchmake/joinOrCreate/arena",
          bytes: a.bytes,
          chunked: i % 4 < 2,
          chunkBytes: 64 * 1024,
        }),
      ),
    );
    rssPeakMb = Math.max(rssPeakMb, rssMb(a.pid));
    return { results, rssBeforeMb, rssPeakMb };
  } finally {
    clearInterval(poll);
  }
}
