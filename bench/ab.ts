/**
 * Speed as a same-run A/B against a baseline commit (default 14a8e74), not absolute times:
 * the baseline is checked out with `git worktree add` into the scratch directory (its
 * node_modules a symlink to ours), bench/ab-child.ts is copied into it, and the two sides run
 * the same measurement in alternating child processes (A B B A A B …), so that a noisy
 * moment on a shared machine spreads over both. The worktree is removed at the end.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { corpus, requestJson } from "./fixtures.ts";

const here = dirname(fileURLToPath(import.meta.url));
export const BASELINE = process.env.BENCH_BASELINE ?? "14a8e74";

interface Side {
  readonly decideP50Us: number[];
  readonly maskMBpsPerCore: number[];
}

export interface AbResult {
  readonly baseline: string;
  readonly rounds: number;
  readonly head: { decideP50Us: number; maskMBpsPerCore: number; runs: Side };
  readonly base: { decideP50Us: number; maskMBpsPerCore: number; runs: Side };
  /** head / base: < 1 is faster for latency, > 1 is faster for throughput. */
  readonly decideRatio: number;
  readonly maskRatio: number;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export function benchAB(scratch: string, log: (m: string) => void, rounds = 4): AbResult {
  const root = join(here, "..");
  const base = join(scratch, `baseline-${BASELINE}`);
  log(`A/B: checking out ${BASELINE} into ${base}…`);
  execFileSync("git", ["worktree", "add", "--detach", "--force", base, BASELINE], {
    cwd: root,
    stdio: "ignore",
  });
  try {
    symlinkSync(join(root, "node_modules"), join(base, "node_modules"));
    copyFileSync(join(here, "ab-child.ts"), join(base, "bench", "ab-child.ts"));
    const c = corpus(1_000_000, 11);
    const inputs = join(scratch, "ab-inputs.json");
    writeFileSync(
      inputs,
      JSON.stringify({
        request2k: requestJson(2048),
        docs: c.docs.map((d) => d.value),
        docBytes: c.bytes,
        decideIterations: 3000,
        // V8 is still optimising the detectors during the second and third pass over the
        // megabyte (measured pass by pass: they ran at half the speed of later passes).
        warmupPasses: 3,
        passes: 5,
      }),
    );
    const sides: Record<"head" | "base", Side> = {
      head: { decideP50Us: [], maskMBpsPerCore: [] },
      base: { decideP50Us: [], maskMBpsPerCore: [] },
    };
    for (let r = 0; r < rounds; r++) {
      const order: ("head" | "base")[] = r % 2 === 0 ? ["head", "base"] : ["base", "head"];
      for (const side of order) {
        const cwd = side === "head" ? root : base;
        const p = spawnSync(process.execPath, ["--import", "tsx", "bench/ab-child.ts", inputs], {
          cwd,
          encoding: "utf8",
        });
        if (p.status !== 0) throw new Error(`A/B child (${side}) failed: ${p.stderr.slice(-500)}`);
        const o = JSON.parse(p.stdout.trim().split("\n").pop()!) as {
          decideP50Us: number;
          maskMBpsPerCore: number[];
        };
        sides[side].decideP50Us.push(o.decideP50Us);
        sides[side].maskMBpsPerCore.push(...o.maskMBpsPerCore);
      }
      log(`A/B: round ${r + 1} of ${rounds} done`);
    }
    const sum = (s: Side) => ({
      decideP50Us: median(s.decideP50Us),
      maskMBpsPerCore: median(s.maskMBpsPerCore),
      runs: s,
    });
    const head = sum(sides.head);
    const baseSum = sum(sides.base);
    return {
      baseline: BASELINE,
      rounds,
      head,
      base: baseSum,
      decideRatio: head.decideP50Us / baseSum.decideP50Us,
      maskRatio: head.maskMBpsPerCore / baseSum.maskMBpsPerCore,
    };
  } finally {
    execFileSync("git", ["worktree", "remove", "--force", base], { cwd: root, stdio: "ignore" });
  }
}
