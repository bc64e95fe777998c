/**
 * Colyseus' own log calls (garbage frames, handshake failures) as structured lines. Every error is
 * counted; lines are capped at one per second so a client spraying junk cannot flood the log.
 */
import type { Logger } from "../../observability/log.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import type { GameMetrics } from "../metrics.ts";

export function colyseusLogger(limited: LimitedLog, log: Logger, metrics: GameMetrics) {
  const text = (args: unknown[]) =>
    args
      .map((a) => (a instanceof Error ? a.message : String(a)))
      .join(" ")
      .slice(0, 500);
  return {
    debug: () => {},
    trace: () => {},
    info: (...args: unknown[]) => log.debug("colyseus", { detail: text(args) }),
    warn: (...args: unknown[]) => limited("warn", "colyseus", "colyseus", { detail: text(args) }),
    error: (...args: unknown[]) => {
      metrics.errors.inc("colyseus");
      limited("warn", "colyseus", "colyseus error", { detail: text(args) });
    },
  };
}
