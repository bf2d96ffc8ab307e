import { mkdtempSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { basename, join } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// Tests never touch the user's Interlock home (keys, journals, pins, checkpoints): one
// temporary home for the run, inherited by the interlock processes the tests start.
const home = process.env.INTERLOCK_TEST_HOME ?? mkdtempSync(join(tmpdir(), "interlock-home-"));

/**
 * The files that take longest, longest first. A run starts them before the others so that
 * none of them is left running alone at the end while the other worker idles. Vitest orders
 * by the previous run's timings when it has them (node_modules/.vite); a fresh clone has none,
 * and then orders by file size, which put the two longest files (small ones) last.
 */
const SLOW_FIRST = [
  "exactly-once.test.ts",
  "pack.test.ts",
  "bypass.test.ts",
  "sdk-github.test.ts",
  "github-bypass.test.ts",
  "identity.test.ts",
  "cli-reviewer.test.ts",
  "no-leak.property.test.ts",
  "reach-e2e.test.ts",
  "github-provenance.test.ts",
];

class SlowFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW_FIRST.indexOf(basename(f.moduleId));
      return i === -1 ? SLOW_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the other files keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Builds lib/ first: tests that start bin/interlock.js as a process run the compiled code.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // One worker per core. Vitest's default is one fewer, which on a 2-core machine ran the
    // whole suite in a single worker; the workers spend much of their time waiting on git and
    // the other processes they start, so the cores stay busy.
    maxWorkers: availableParallelism(),
    // A worker process runs file after file without reloading the modules: each file no longer
    // pays the start-up, the imports and a cold JIT again (a third of the suite's user CPU).
    // Test files therefore restore whatever global state they change (process.env, timers).
    isolate: false,
    sequence: { sequencer: SlowFirst },
    env: { INTERLOCK_HOME: home },
  },
});
