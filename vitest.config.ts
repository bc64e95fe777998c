import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // expect.poll's failure deadline (a passing poll returns at its event): generous, for a
    // loaded one-core machine
    expect: { poll: { timeout: 10_000 } },
    reporters: ["default", "./test/closing-line-reporter.ts"],
  },
});
