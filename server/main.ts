/**
 * `npm start`: the embedded default. Runs the stats service and the game server as two real
 * processes on loopback, prefixes their log lines, and stops both together on Ctrl-C / SIGTERM.
 * If either dies on its own, the other is stopped too and the exit code is non-zero: a half-up
 * stack that looks healthy is worse than a clear failure.
 */
import { createLogger, errorFields } from "./log.ts";
import { spawnReady, type ReadyProcess } from "./process/spawn-ready.ts";
import { announceReady } from "./process/ready-message.ts";
import { STATS_COMMAND } from "./stats/config.ts";

const log = createLogger("info", (line) => process.stdout.write(`[main] ${line}`));

// The game server finds the stats service on the port this run gives it. AUTH_SECRET is left to
// the game server, which warns and signs with a random per-process secret when it is unset.
const env = { ...process.env };
env.STATS_PORT ??= String(STATS_COMMAND.options.port.default);
env.STATS_URL ??= `ws://127.0.0.1:${env.STATS_PORT}/rpc`;

interface Child {
  name: string;
  proc: ReadyProcess;
}

/** Starts one service with prefixed logs; resolves once it says ready (spawnReady). */
async function start(name: string, entry: string): Promise<Child> {
  const proc = await spawnReady(entry, { env, onLine: (line) => process.stdout.write(`[${name}] ${line}\n`) });
  const child = { name, proc };
  void proc.exited.then(({ code, signal }) => {
    if (!stopping) {
      log.error(`${name} exited`, { code, signal });
      void stopAll(1);
    }
  });
  return child;
}

let stopping = false;
const children: Child[] = [];

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    // Game first, so its last round and journal flush can still reach the stats service.
    for (const child of children.reverse()) await child.proc.stop();
    log.info("stopped");
  }
  process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stopAll(0));

try {
  children.push(await start("stats", "server/stats/main.ts"));
  children.push(await start("game", "server/game/main.ts"));
} catch (err) {
  log.error("start failed", errorFields(err));
  await stopAll(1);
}
log.info("skirmish is up", {
  game: `ws://127.0.0.1:${children[1].proc.port}`,
  stats: env.STATS_URL,
  play: `http://127.0.0.1:${children[1].proc.port}/`,
  bots: "npm run sim -- --bots 20 --duration 30",
});
announceReady(children[1].proc.port);
