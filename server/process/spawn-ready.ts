import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { isReadyMessage } from "./ready-message.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TAIL_LINES = 40;

export interface SpawnReadyOptions {
  /** command-line arguments after the entry file */
  args?: string[];
  /** merged over `process.env`; an `undefined` value removes the variable */
  env?: Record<string, string | undefined>;
  /** Node flags before the entry file (e.g. `--import`) */
  execArgv?: string[];
  /** every line the child writes, as it comes (the pipes are always drained) */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** how long the child has to say ready (default 60 s: on a shared 2-core machine a Node start can take many seconds) */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ReadyProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** the port the child said it listens on */
  readonly port: number;
  /** settles (never rejects) when the process has exited and its output has been read */
  readonly exited: Promise<ExitStatus>;
  /** the last lines it wrote (for error messages) */
  tail(): string;
  /** SIGTERM (or `signal`), then SIGKILL after `graceMs`; resolves once it has exited */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ExitStatus>;
}

/** Why a child did not become ready; `exit` is its exit status when it exited on its own. */
export class ChildStartError extends Error {
  readonly reason: string;
  readonly exit: ExitStatus | null;
  constructor(entry: string, reason: string, exit: ExitStatus | null, output: string) {
    super(`${entry} ${reason}${output ? `; its last output:\n${output}` : " (no output)"}`);
    this.name = "ChildStartError";
    this.reason = reason;
    this.exit = exit;
  }
}

/**
 * Runs a repository entry point (`server/game/main.ts`, `server/stats/main.ts`, …) with this Node,
 * an IPC channel and piped output, and resolves once the child sends its ready message
 * (`announceReady`, server/process/ready-message.ts). The child runs in its own process group, and
 * its lifeline (`exitWithParent`) makes it exit when this process dies, so it cannot outlive it.
 *
 * Errors: rejects with a ChildStartError if the child exits before it is ready, does not say
 * ready within `timeoutMs`, or `signal` aborts; it names the entry, the reason, the exit status
 * (when the child exited on its own) and the child's last output lines. In
 * every rejection the child has already exited (it is stopped first), so a caller never has to
 * clean up after a failed start.
 */
export function spawnReady(entry: string, options: SpawnReadyOptions = {}): Promise<ReadyProcess> {
  const proc = spawn(process.execPath, [...(options.execArgv ?? []), ROOT + entry, ...(options.args ?? [])], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    // its own process group: a terminal's Ctrl-C reaches only this process, which stops its
    // children in order; if this process dies instead, their lifeline ends them
    detached: true,
  });
  const lines: string[] = [];
  for (const stream of ["stdout", "stderr"] as const) {
    createInterface({ input: proc[stream]! }).on("line", (line) => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      options.onLine?.(line, stream);
    });
  }
  // 'close', not 'exit': by then the child's last output lines have been read too
  const exited = new Promise<ExitStatus>((resolve) =>
    proc.once("close", (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })),
  );
  const tail = () => lines.join("\n");
  const stop = async (signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<ExitStatus> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill(signal);
      const force = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(force);
    }
    return exited;
  };

  return new Promise<ReadyProcess>((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 60_000;
    let settled = false;
    const fail = (why: string, exit: ExitStatus | null = null) => {
      if (settled) return;
      cleanup();
      void stop().then(() => reject(new ChildStartError(entry, why, exit, tail())));
    };
    const onMessage = (message: unknown) => {
      if (!isReadyMessage(message) || settled) return;
      cleanup();
      resolve({ proc, pid: proc.pid!, port: message.port, exited, tail, stop });
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(`exited (code ${code}, signal ${signal}) before it was ready`, { code, signal });
    const onAbort = () => fail("was stopped before it was ready (aborted)");
    const timer = setTimeout(() => fail(`did not say ready within ${timeoutMs} ms`), timeoutMs);
    function cleanup() {
      settled = true;
      clearTimeout(timer);
      proc.off("message", onMessage);
      proc.off("exit", onExit);
      options.signal?.removeEventListener("abort", onAbort);
    }
    proc.on("message", onMessage);
    proc.once("exit", onExit);
    proc.once("error", (err) => fail(`could not be started: ${err.message}`));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}
