import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Tests never touch the user's Interlock home (keys, journals, pins, checkpoints): one
// temporary home for the run, inherited by the interlock processes the tests start.
const home = process.env.INTERLOCK_TEST_HOME ?? mkdtempSync(join(tmpdir(), "interlock-home-"));

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds lib/ first: tests that start bin/interlock.js as a process run the compiled code.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    env: { INTERLOCK_HOME: home },
  },
});
