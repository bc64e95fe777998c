/**
 * `npm start`: the embedded default. Runs the stats service and the game server as two real
 * processes on loopback, prefixes their log lines, and stops both together on Ctrl-C / SIGTERM.
 * If either dies on its own, the other is stopped too and the exit code is non-zero: a half-up
 * stack that looks healthy is worse than a clear failure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createLogger } from "./log.ts";
import { GAME_COMMAND } from "./game/config.ts";
import { STATS_COMMAND } from "./stats/config.ts";

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const log = createLogger("info", (line) => process.stdout.write(`[main] ${line}`));

// The game server finds the stats service on the port this run gives it. AUTH_SECRET is left to
// the game server, which warns and signs with a random per-process secret when it is unset.
const env = { ...process.env };
env.STATS_PORT ??= String(STATS_COMMAND.options.port.default);
const gamePort = env.PORT ?? String(GAME_COMMAND.options.port.default);
env.STATS_URL ??= `ws://127.0.0.1:${env.STATS_PORT}/rpc`;

interface Child {
  name: string;
  proc: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number>;
}

/** Starts one service; resolves `ready` when it logs a "... listening" line. */
function start(name: string, entry: string): Child {
  const proc = spawn(process.execPath, [here(entry)], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  for (const stream of [proc.stdout!, proc.stderr!]) {
    createInterface({ input: stream }).on("line", (line) => {
      process.stdout.write(`[${name}] ${line}\n`);
      if (/"msg":"[^"]*listening/.test(line)) markReady();
    });
  }
  const exited = new Promise<number>((resolve) => proc.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  return { name, proc, ready, exited };
}

const stats = start("stats", "./stats/main.ts");
let game: Child | undefined;
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    // Game first, so its last round and journal flush can still reach the stats service.
    for (const child of [game, stats]) {
      if (!child || child.proc.exitCode !== null) continue;
      child.proc.kill("SIGTERM");
      const timer = setTimeout(() => child.proc.kill("SIGKILL"), 10_000);
      await child.exited;
      clearTimeout(timer);
    }
    log.info("stopped");
  }
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stopAll(0));

stats.exited.then((code) => {
  if (!stopping) {
    log.error("stats service exited", { code });
    void stopAll(1);
  }
});

await stats.ready;
game = start("game", "./game/main.ts");
game.exited.then((code) => {
  if (!stopping) {
    log.error("game server exited", { code });
    void stopAll(1);
  }
});
await game.ready;
log.info("skirmish is up", {
  game: `ws://127.0.0.1:${gamePort}`,
  stats: env.STATS_URL,
  play: `http://127.0.0.1:${gamePort}/`,
  bots: "npm run sim -- --bots 20 --duration 30",
});
