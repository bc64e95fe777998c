/**
 * Structured logging for every server process: one JSON object per line on stdout. Quiet by default (info and above);
 * "silent" is for tests that start servers in-process.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Errors become `{ name, message, stack }`: JSON.stringify drops their own properties otherwise. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { err: err.message, errName: err.name, ...(code !== undefined ? { errCode: code } : {}), stack: err.stack };
  }
  return { err: String(err) };
}

let stdoutFailed = false;
let stderrFailed = false;
let watching = false;
let dropped = 0;

/** Log lines lost because stdout had failed. */
export function droppedLogLines(): number {
  return dropped;
}

/**
 * Writes `text` to stdout and never throws. When stdout fails (EPIPE: whoever read it is gone),
 * this says so once on stderr and drops every later line (counted in `droppedLogLines`). Without
 * this, the failed stream's 'error' became an uncaught exception whose handler logged to the
 * dead stdout again: a loop at 100 % CPU.
 */
export function writeStdout(text: string): void {
  if (!watching) {
    watching = true;
    process.stdout.on("error", stdoutFailedWith);
    process.stderr.on("error", () => (stderrFailed = true));
  }
  if (stdoutFailed) {
    dropped++;
    return;
  }
  try {
    process.stdout.write(text);
  } catch (err) {
    stdoutFailedWith(err);
  }
}

function stdoutFailedWith(err: unknown): void {
  if (stdoutFailed) return;
  stdoutFailed = true;
  dropped++;
  if (stderrFailed) return;
  const line = JSON.stringify({
    time: new Date().toISOString(),
    level: "error",
    msg: "stdout failed; log lines are dropped from now on",
    ...errorFields(err),
  });
  try {
    process.stderr.write(line + "\n");
  } catch {
    stderrFailed = true;
  }
}

export function createLogger(level: LogLevel, write: (line: string) => void = writeStdout): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const enabled = (l: Exclude<LogLevel, "silent">) => LOG_LEVELS.indexOf(l) >= threshold;
  const emit = (l: Exclude<LogLevel, "silent">, msg: string, fields?: Record<string, unknown>) => {
    if (!enabled(l)) return;
    let line: string;
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...fields });
    } catch {
      // a field that cannot be serialised (cycle, BigInt) must not lose the line itself
      line = JSON.stringify({ time: new Date().toISOString(), level: l, msg, fields: "unserialisable" });
    }
    write(line + "\n");
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
  };
}
