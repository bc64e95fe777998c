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

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
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
