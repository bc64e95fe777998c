// A throwaway PostgreSQL for the suites and benchmarks that need the real thing: `initdb` into a
// temp dir, `postgres` on a free 127.0.0.1 port with its socket in that dir, fsync off (the data
// is thrown away), stopped and deleted at the end. Run as user `postgres` when we are root (the
// server refuses to run as root). Binaries are looked up under /usr/lib/postgresql/*/bin first,
// then PATH, so CI without /usr/local/bin links finds them too.
//
// One server per test file (start it in beforeAll): initdb costs a second or two, a test's own
// rows are kept apart by ids or by a database of its own (createDatabase).
import { prerequisite } from "./prerequisite.ts";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { freePort, isPortFree } from "../server/process/free-port.ts";
import { tmpdir, userInfo } from "node:os";
import { delimiter, join } from "node:path";
import pg from "pg";

/** The one line a suite prints when it is skipped for want of the binaries. */
export const POSTGRES_MISSING =
  "PostgreSQL binaries (initdb, postgres) not found under /usr/lib/postgresql/*/bin or PATH: install the Debian package `postgresql`";

/** The directory holding `initdb` and `postgres`, or undefined when PostgreSQL is not installed. */
export function postgresBinDir(): string | undefined {
  const candidates: string[] = [];
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(join(root, v, "bin"));
  }
  candidates.push(...(process.env.PATH ?? "").split(delimiter).filter(Boolean));
  return candidates.find((dir) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres")));
}

/**
 * For test files: the bin dir, or undefined after printing POSTGRES_MISSING once (the caller then
 * skips its suite). Under CI a missing PostgreSQL is an error, never a skip.
 */
export function postgresForTests(): string | undefined {
  const dir = postgresBinDir();
  return prerequisite(dir !== undefined, POSTGRES_MISSING) ? dir : undefined;
}

export interface PostgresServer {
  readonly port: number;
  /** postgres://postgres@127.0.0.1:port/postgres */
  readonly url: string;
  /** everything the server wrote to stdout/stderr since it last started (its log) */
  readonly output: string;
  /** url of another database on this server */
  urlOf(database: string): string;
  /** CREATE DATABASE name; answers its url */
  createDatabase(name: string): Promise<string>;
  /** kills the server (default SIGKILL: no shutdown, clients see their sockets die) */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** starts it again on the same port and data dir (after kill) */
  restart(): Promise<void>;
  /** stops it and deletes its files */
  stop(): Promise<void>;
}

// the server's own, re-exported: suites import it from here beside startPostgres
export { freePort };

export async function startPostgres(binDir: string, opts: { port?: number } = {}): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), "skirmish-pg-"));
  const data = join(dir, "data");
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const pgUser = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
    const pgGroup = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
    if (pgUser.status !== 0) throw new Error("running as root and there is no `postgres` user to run PostgreSQL as");
    chownSync(dir, Number(pgUser.stdout), Number(pgGroup.stdout));
    chmodSync(dir, 0o700);
  }
  const command = (bin: string, args: string[]): [string, string[]] =>
    asRoot ? ["runuser", ["-u", "postgres", "--", join(binDir, bin), ...args]] : [join(binDir, bin), args];

  const [initCmd, initArgs] = command("initdb", [
    "-D",
    data,
    "-U",
    "postgres",
    "-A",
    "trust",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
  ]);
  const init = spawnSync(initCmd, initArgs, { encoding: "utf8", timeout: 120_000 });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr || init.stdout}`);
  }

  const port = opts.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let output = "";

  async function launch(): Promise<void> {
    const [cmd, args] = command("postgres", [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "synchronous_commit=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
    ]);
    const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    output = "";
    proc.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    proc.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    // ready: the postmaster's own log line once it listens and recovery is done (or it exits first)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill("SIGKILL");
        reject(new Error(`postgres not ready within 60 s: ${output}`));
      }, 60_000);
      const settle = (err?: Error) => {
        clearTimeout(timer);
        proc.stdout!.off("data", onData);
        proc.stderr!.off("data", onData);
        proc.off("exit", onExit);
        if (err) reject(err);
        else resolve();
      };
      const onData = () => {
        if (output.includes("database system is ready to accept connections")) settle();
      };
      const onExit = () => settle(new Error(`postgres exited at start: ${output}`));
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", onData);
      proc.once("exit", onExit);
    });
    const client = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
    await client.connect();
    try {
      await client.query("SELECT 1");
    } finally {
      await client.end();
    }
  }

  /** runuser's child is postgres: signal the postmaster itself, found by its pid file. */
  async function kill(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    const pidFile = spawnSync("head", ["-1", join(data, "postmaster.pid")], { encoding: "utf8" });
    const pid = Number(pidFile.stdout.trim());
    if (Number.isInteger(pid) && pid > 0) process.kill(pid, signal);
    else proc.kill(signal);
    await exited;
    if (signal === "SIGKILL") {
      // the postmaster's children notice it is gone and leave; the stale pid file is handled by
      // the next start. Wait for the port to be free so that restart() can take it again: those
      // children are not ours, so their exit is no event here and the port is polled (bounded).
      for (let i = 0; i < 100; i++) {
        if (await isPortFree(port)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  await launch().catch((err) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;

  return {
    port,
    url: urlOf("postgres"),
    urlOf,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: urlOf("postgres") });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    get output() {
      return output;
    },
    kill,
    restart: launch,
    async stop() {
      await kill("SIGINT"); // fast shutdown: aborts open transactions, disconnects clients
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
