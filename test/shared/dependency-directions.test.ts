import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

/** Every import of a file, relative imports resolved to repo paths (`server/runtime/run.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^;]*?from\s+"([^"]+)"/g)].map((m) =>
    m[1].startsWith(".") ? relative(ROOT, resolve(ROOT, dirname(file), m[1])) : m[1],
  );
}

describe("dependency directions (docs/ARCHITECTURE.md)", () => {
  it("the runtime imports nothing outside itself: no package, no node: module, no game code", () => {
    for (const file of sources("server/runtime")) {
      for (const dep of importsOf(file)) expect(`${file} -> ${dep}`).toMatch(/ -> server\/runtime\//);
    }
  });

  it("client-sim uses shared/, the dependency-free runtime and packages; never server/game or server/stats", () => {
    const seen = new Set<string>();
    for (const file of sources("client-sim")) {
      for (const dep of importsOf(file)) {
        if (dep.startsWith("server/")) seen.add(dep);
        expect(`${file} -> ${dep}`).not.toMatch(/ -> (server\/(?!runtime\/)|bench\/|test\/)/);
      }
    }
    expect([...seen]).toEqual(["server/runtime/index.ts"]);
  });

  it("shared/ imports no Node module and no server code", () => {
    for (const file of sources("shared")) {
      for (const dep of importsOf(file)) expect(`${file} -> ${dep}`).not.toMatch(/ -> (node:|server\/|client-sim\/)/);
    }
  });

  it("web/ (the browser pages) imports only shared/ and the SDK, never server code", () => {
    for (const file of sources("web")) {
      for (const dep of importsOf(file)) expect(`${file} -> ${dep}`).toMatch(/ -> (web\/|shared\/|@colyseus\/sdk$)/);
    }
  });

  it("the server's shared parts (observability/, process/, sqlite/) know nothing of the game or the stats service", () => {
    for (const dir of ["server/observability", "server/process", "server/sqlite"]) {
      const files = sources(dir);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files)
        for (const dep of importsOf(file)) expect(`${file} -> ${dep}`).not.toMatch(/ -> server\/(game|stats)\//);
    }
  });

  it("the round and the journal know nothing of rooms, HTTP or the cluster; rooms nothing of HTTP or the cluster", () => {
    const forbidden: Record<string, RegExp> = {
      "server/game/round": / -> server\/game\/(room|http|cluster)\//,
      "server/game/journal": / -> server\/game\/(room|http|cluster)\//,
      "server/game/room": / -> server\/game\/(http|cluster)\//,
      "server/game/auth": / -> server\/game\/(room|round|journal|http|cluster)\//,
    };
    for (const [dir, pattern] of Object.entries(forbidden)) {
      const files = sources(dir);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) for (const dep of importsOf(file)) expect(`${file} -> ${dep}`).not.toMatch(pattern);
    }
  });
});
