/**
 * A rate limit on log lines: per key, at most one line per `intervalMs`; the lines held back in
 * between are counted and reported as `suppressed` on the next line that gets through. Whatever
 * a client makes happen per frame or per request goes through one of these, so it cannot flood
 * the log. Keys are a fixed, small set (never per client). Counting in metrics is the caller's job (every event, not only the logged ones).
 */
import type { Logger } from "./log.ts";

export type LimitedLog = (
  level: "info" | "warn" | "error",
  key: string,
  msg: string,
  fields?: Record<string, unknown>,
) => void;

export function limitLog(log: Logger, intervalMs = 1000, now: () => number = Date.now): LimitedLog {
  const windows = new Map<string, { at: number; suppressed: number }>();
  return (level, key, msg, fields) => {
    const t = now();
    const w = windows.get(key);
    if (w !== undefined && t - w.at < intervalMs) {
      w.suppressed++;
      return;
    }
    const suppressed = w?.suppressed ?? 0;
    windows.set(key, { at: t, suppressed: 0 });
    log[level](msg, suppressed > 0 ? { ...fields, suppressed } : fields);
  };
}
