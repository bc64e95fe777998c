/**
 * A throwaway `redis-server` for `npm run start:cluster` and the cluster tests: 127.0.0.1 only,
 * no persistence (`--save '' --appendonly no`), on a port found free.
 *
 * Started by a parent that is SIGKILLed, it goes too: it runs under util-linux's `setpriv
 * --pdeathsig TERM` (Linux's parent-death signal; redis-server is not node, so
 * process/exit-with-parent.ts cannot serve it). The signal follows the thread that spawned it, which
 * for Node's child_process is the calling JavaScript thread. Without setpriv (not Linux, no
 * util-linux) it runs bare and outlives a SIGKILLed parent, as before.
 *
 * Errors: no binary (findRedisServer returns undefined; startRedisServer rejects naming the
 * Debian package `redis-server`), a server that exits or says nothing ready within 10 s: rejects
 * with its last output. Cancellation: stop() sends SIGTERM (SIGKILL after 5 s) and resolves
 * when it exited; kill() is SIGKILL, for tests of a Redis dying.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { createInterface } from "node:readline";
import { freePort } from "./free-port.ts";

export const REDIS_PACKAGE = "redis-server";
/** the Debian package of `setpriv` (Essential, so normally there) */
export const SETPRIV_PACKAGE = "util-linux";

/** redis-server on PATH, else in the Debian location (PATH may lack /usr/bin links in CI). */
export function findRedisServer(): string | undefined {
  return findExecutable("redis-server");
}

/** util-linux's setpriv, which gives redis-server its parent-death signal; undefined where missing. */
export function findSetpriv(): string | undefined {
  return findExecutable("setpriv");
}

function findExecutable(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(delimiter).filter(Boolean),
    "/usr/bin",
    "/usr/local/bin",
    "/usr/sbin",
  ];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly proc: ChildProcess;
  /** resolves with the exit code (or 1 after a signal) */
  readonly exited: Promise<number>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Starts redis-server on `port` (default: a free one); `onLine` sees its log lines. */
export async function startRedisServer(
  opts: { port?: number; onLine?: (line: string) => void } = {},
): Promise<RedisServer> {
  const bin = findRedisServer();
  if (!bin)
    throw new Error(`redis-server not found on PATH or in /usr/bin: install the Debian package ${REDIS_PACKAGE}`);
  const port = opts.port ?? (await freePort());
  const args = [bin, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const setpriv = findSetpriv();
  // setpriv sets the parent-death signal, then execs redis-server: same pid, signal kept
  const [command, ...rest] = setpriv ? [setpriv, "--pdeathsig", "TERM", "--", ...args] : args;
  const proc = spawn(command, rest, { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number>((resolve) =>
    proc.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))),
  );
  const tail: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`redis-server on port ${port} not ready within 10 s:\n${tail.join("\n")}`)),
      10_000,
    );
    for (const stream of [proc.stdout!, proc.stderr!]) {
      createInterface({ input: stream }).on("line", (line) => {
        opts.onLine?.(line);
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (line.includes("Ready to accept connections")) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on port ${port} exited (${code}):\n${tail.join("\n")}`));
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const force = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(force);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    proc,
    exited,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}
