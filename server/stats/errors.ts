// The one error type the stats client rejects with; `code` says what went wrong.
export type StatsErrorCode =
  | "unavailable" // no connection to the service (outage, reconnecting, client closed)
  | "timeout" // the get's deadline passed
  | "aborted" // the caller's AbortSignal fired
  | "not_found"
  | "bad_request"
  | "unauthorized"
  | "server"; // the service answered with an error (incl. injected failures)

export const STATS_ERROR_CODES: readonly StatsErrorCode[] = [
  "unavailable",
  "timeout",
  "aborted",
  "not_found",
  "bad_request",
  "unauthorized",
  "server",
];

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
