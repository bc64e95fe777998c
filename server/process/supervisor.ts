import { Backoff } from "../../shared/backoff.ts";
import { writeStdout, type Logger } from "../observability/log.ts";
import { run, sleep, spawn, until, type Operation, type Task } from "../runtime/index.ts";
import { ChildStartError, spawnReady, type ExitStatus, type ReadyProcess } from "./spawn-ready.ts";

export interface ChildSpec {
  /** prefix of its log lines and name in the supervisor's own */
  name: string;
  /** repository entry point, e.g. `server/stats/main.ts` */
  entry: string;
  args?: string[];
  /** merged over this process's environment */
  env?: Record<string, string | undefined>;
}

/**
 * A crash is fast when the child exited before it was ready or less than `minUptimeMs` after;
 * `maxFastCrashes` fast crashes in a row give up (a crash loop: a port taken, a bad store, a bug
 * at start-up), while a child that was up longer is always restarted (killed from outside, a
 * rare fault). Restarts wait a full-jitter backoff (shared/backoff.ts) from `minMs`, doubling
 * per fast crash up to `maxMs`. As pm2's min_uptime / max_restarts.
 */
export interface RestartPolicy {
  minMs: number;
  maxMs: number;
  minUptimeMs: number;
  maxFastCrashes: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  minMs: 250,
  maxMs: 5_000,
  minUptimeMs: 2_000,
  maxFastCrashes: 5,
};

/** Exit code of a server process that refused its configuration: restarting cannot help. */
const EXIT_USAGE = 2;

export interface SupervisorOptions {
  log: Logger;
  /** each line a child writes (default: `[name] line` on stdout) */
  output?: (name: string, line: string) => void;
  policy?: RestartPolicy;
  /** how long a (re)started child has to say ready (default: spawnReady's 60 s) */
  readyTimeoutMs?: number;
  /** SIGTERM to SIGKILL when stopping a child (default 10 s) */
  stopGraceMs?: number;
}

export interface Supervisor {
  /** each child's port, once all are up for the first time; rejects if supervision ends before (with `done`'s error if it gave up) */
  readonly ready: Promise<Record<string, number>>;
  /** resolves after `stop()`; rejects when a child could not be kept up (the message says which and why) */
  readonly done: Promise<void>;
  /** stops every child, last started first, and resolves once all have exited */
  stop(): Promise<void>;
  /**
   * Restarts one child as asked (a deploy): SIGTERM, then the usual restart, without counting it as
   * a crash. Resolves once the new process said ready; rejects if supervision ends first or the
   * child is not running.
   */
  restart(name: string): Promise<void>;
}

/**
 * Starts `children` in order (each once the one before is ready) and keeps them up: a child
 * that exits without being asked, or fails to start, is restarted after a backoff with full
 * jitter. Children are real processes (`spawnReady`) whose lifeline ends them if this process
 * dies, so even a SIGKILL of the supervisor leaves no orphans.
 *
 * Errors: a child that crashes fast `policy.maxFastCrashes` times in a row, or exits with
 * code 2 (it refused its configuration), ends supervision: every other child is stopped and
 * `done` rejects naming the child and its last exit. Cancellation: `stop()` stops the children
 * last started first (so the game's last round can still reach the stats service), each with
 * SIGTERM and SIGKILL after `stopGraceMs`; a child still starting is stopped too.
 *
 * @example
 * ```ts
 * const sup = supervise([{ name: "stats", entry: "server/stats/main.ts" }], { log });
 * await sup.ready;
 * process.on("SIGINT", () => void sup.stop());
 * await sup.done;
 * ```
 */
export function supervise(children: readonly ChildSpec[], options: SupervisorOptions): Supervisor {
  let requestStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  let markReady!: (ports: Record<string, number>) => void;
  const ready = new Promise<Record<string, number>>((resolve) => (markReady = resolve));
  const ports: Record<string, number> = {};
  const running = new Map<string, ReadyProcess>();
  /** per child being restarted as asked: resolves with its replacement's readiness */
  const asked = new Map<string, () => void>();

  const task = run(
    function* (): Operation<void> {
      const tasks: Task<void>[] = [];
      try {
        for (const spec of children) {
          let up!: () => void;
          const isUp = new Promise<void>((resolve) => (up = resolve));
          const onReady = (child: ReadyProcess) => {
            ports[spec.name] = child.port;
            running.set(spec.name, child);
            asked.get(spec.name)?.();
            asked.delete(spec.name);
            up();
          };
          tasks.push(
            yield* spawn(() => keepUp(spec, options, onReady, () => asked.has(spec.name)), { name: spec.name }),
          );
          yield* until(Promise.race([isUp, stopRequested]));
        }
        markReady({ ...ports });
        yield* until(stopRequested);
      } finally {
        // one after the other, newest first: halting the parent would stop them all at once
        for (const t of tasks.reverse()) yield* until(t.halt());
      }
    },
    { name: "supervisor" },
  );
  const done = Promise.resolve(task).then(() => undefined);
  const readyOrEnded = Promise.race([
    ready,
    done.then(() => Promise.reject(new Error("supervisor stopped before every child was up"))),
  ]);
  // both are there to be awaited, not required to be: neither may become an unhandled rejection
  readyOrEnded.catch(() => {});
  done.catch(() => {});
  return {
    ready: readyOrEnded,
    done,
    stop: async () => {
      requestStop();
      await task.then(
        () => {},
        () => {},
      );
    },
    restart: (name) => {
      const child = running.get(name);
      if (!child || asked.has(name)) return Promise.reject(new Error(`${name} is not running, or restarting already`));
      const replaced = new Promise<void>((resolve) => asked.set(name, resolve));
      child.proc.kill("SIGTERM");
      return Promise.race([replaced, done.then(() => Promise.reject(new Error("supervision ended")))]);
    },
  };
}

/** One child's life: start, wait for its exit, restart with backoff, until halted or it gives up. */
function* keepUp(
  spec: ChildSpec,
  options: SupervisorOptions,
  onReady: (child: ReadyProcess) => void,
  restartAsked: () => boolean,
): Operation<void> {
  const { log } = options;
  const policy = options.policy ?? DEFAULT_RESTART_POLICY;
  const output = options.output ?? ((name, line) => writeStdout(`[${name}] ${line}\n`));
  let fastCrashes = 0;
  const backoff = new Backoff(policy);
  for (let restarts = 0; ; restarts++) {
    let readyAt: number | undefined;
    const abort = new AbortController();
    const starting = spawnReady(spec.entry, {
      args: spec.args,
      env: spec.env,
      onLine: (line) => output(spec.name, line),
      timeoutMs: options.readyTimeoutMs,
      signal: abort.signal,
    });
    let ended: string;
    let status: ExitStatus | undefined;
    try {
      const child = yield* until(starting);
      log.info("child ready", { child: spec.name, pid: child.pid, port: child.port, restarts });
      readyAt = Date.now();
      onReady(child);
      status = yield* until(child.exited);
      ended = `exited (code ${status.code}, signal ${status.signal}) ${((Date.now() - readyAt) / 1000).toFixed(1)} s after it was ready`;
    } catch (err) {
      if (!(err instanceof ChildStartError)) throw err;
      status = err.exit ?? undefined;
      ended = err.reason;
    } finally {
      // halted (stop) while starting or running: stop the process before this coroutine ends
      abort.abort();
      yield* until(
        starting.then(
          (child) => child.stop("SIGTERM", options.stopGraceMs),
          () => undefined,
        ),
      );
    }
    if (status?.code === EXIT_USAGE) {
      throw new Error(`${spec.name} ${ended}: it refused its configuration, so it is not restarted`);
    }
    if (restartAsked()) {
      log.info("child restarting as asked", { child: spec.name, why: ended });
      continue;
    }
    if (readyAt !== undefined && Date.now() - readyAt >= policy.minUptimeMs) {
      fastCrashes = 0;
      backoff.reset();
    } else if (++fastCrashes >= policy.maxFastCrashes) {
      throw new Error(
        `${spec.name} crashed ${fastCrashes} times in a row, each before it was up ${policy.minUptimeMs / 1000} s (last: ${ended}); giving up`,
      );
    }
    const delay = backoff.next();
    log.error("child crashed; restarting", { child: spec.name, why: ended, fastCrashes, restartInMs: delay });
    yield* sleep(delay);
  }
}
