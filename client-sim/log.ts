/**
 * Structured, quiet-by-default logging for the sim: JSON lines on stderr with --verbose, otherwise
 * nothing (every logged error is also counted in the metrics). The SDK writes reconnection chatter
 * with console.info/warn/log; that is routed here so it never pollutes the report on stdout.
 */
export type Log = (event: string, fields?: Record<string, unknown>) => void;

export function createLog(verbose: boolean, source: string): Log {
  if (!verbose) return () => {};
  return (event, fields) => {
    process.stderr.write(JSON.stringify({ t: new Date().toISOString(), src: source, event, ...fields }) + "\n");
  };
}

/** Sends console.log/info/warn/debug through `log` as "sdk" events, calling `onLine` for each. */
export function captureConsole(log: Log, onLine: () => void): void {
  const route =
    (level: string) =>
    (...args: unknown[]) => {
      onLine();
      log("sdk", { level, message: args.map((a) => (typeof a === "string" ? a : String(a))).join(" ") });
    };
  console.log = route("log");
  console.info = route("info");
  console.warn = route("warn");
  console.debug = route("debug");
}
