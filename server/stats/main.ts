// Entry point of the stats service process (`npm run stats`). Logs one JSON line
// {"level":"info","msg":"stats listening",...} when ready; SIGINT/SIGTERM close it cleanly.
import { helpText, loadConfig } from "./config.ts";
import { startStatsService } from "./service.ts";

function fatal(msg: string, fields: Record<string, unknown> = {}): never {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: "error", msg, ...fields }) + "\n");
  process.exit(1);
}

let config;
try {
  config = loadConfig(process.argv.slice(2), process.env);
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${helpText()}\n`);
  process.exit(2);
}
if (config.help) {
  process.stdout.write(helpText() + "\n");
  process.exit(0);
}

const service = await startStatsService({
  host: config.host,
  port: config.port,
  db: config.db,
  token: config.token,
  faults: config.faults,
  log: true,
}).catch((err: Error) => fatal("stats service failed to start", { error: err.message }));

process.stdout.write(
  JSON.stringify({
    time: new Date().toISOString(), level: "info", msg: "stats listening", host: config.host, port: service.port,
    rpc: service.rpcUrl, http: service.httpUrl, db: config.db, faults: config.faults, pid: process.pid,
  }) + "\n",
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    service.close().then(
      () => {
        process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: "info", msg: "stats stopped", signal }) + "\n");
        process.exit(0);
      },
      (err: Error) => fatal("stats service failed to close", { error: err.message }),
    );
  });
}
