// The one error type the stats client rejects with; `code` says what went wrong.
const STATS_ERROR_CODES = [
  "unavailable", // no connection to the service (outage, reconnecting, client closed)
  "timeout", // the get's deadline passed
  "aborted", // the caller's AbortSignal fired
  "not_found",
  "bad_request",
  "unauthorized",
  "server", // the service answered with an error (incl. injected failures)
] as const;

export type StatsErrorCode = (typeof STATS_ERROR_CODES)[number];

export class StatsError extends Error {
  readonly code: StatsErrorCode;
  constructor(code: StatsErrorCode, message: string) {
    super(message);
    this.name = "StatsError";
    this.code = code;
  }
}

export function isStatsErrorCode(x: unknown): x is StatsErrorCode {
  return typeof x === "string" && (STATS_ERROR_CODES as readonly string[]).includes(x);
}
