// A cluster process that cannot work refuses to start, says why, and exits 1 (never hangs):
// unreachable Redis, a REDIS_URL that is not redis://, no shared AUTH_SECRET.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { freePort } from "../../server/process/free-port.ts";
import { repoFile } from "../game/helpers.ts";
import { gameEnv } from "./helpers.ts";

function runGame(env: Record<string, string>, unset: string[] = []): Promise<{ code: number | null; output: string }> {
  const childEnv = gameEnv(env);
  for (const name of unset) delete childEnv[name];
  const child = spawn(process.execPath, [repoFile("server/game/main.ts")], {
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  // bound: a hang is the failure under test (the connect timeout is 3 s); generous, since
  // starting Node on a loaded 2-core machine alone can take many seconds
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  return new Promise((resolve) =>
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    }),
  );
}

describe.concurrent("cluster process start-up refusals", { timeout: 90_000 }, () => {
  it("an unreachable REDIS_URL: a clear error naming it, exit 1", async () => {
    const port = await freePort();
    const { code, output } = await runGame({ REDIS_URL: `redis://127.0.0.1:${port}`, PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(output).toContain(`cannot use Redis at redis://127.0.0.1:${port}`);
  });

  it("a REDIS_URL that is not redis:// (password masked in the message): exit 1", async () => {
    const { code, output } = await runGame({
      REDIS_URL: "http://user:hunter2@example.invalid:6379",
      PORT: String(await freePort()),
    });
    expect(code).toBe(1);
    expect(output).toContain("must be redis://host:port");
    expect(output).not.toContain("hunter2");
  });

  it("REDIS_URL without AUTH_SECRET: refuses, saying a random per-process secret would split the cluster", async () => {
    const { code, output } = await runGame({ REDIS_URL: "redis://127.0.0.1:1", PORT: String(await freePort()) }, [
      "AUTH_SECRET",
    ]);
    expect(code).toBe(1);
    expect(output).toMatch(/REDIS_URL is set but AUTH_SECRET is not.*split/);
  });
});
