import { readFileSync } from "node:fs";

/** Timing helpers for the benchmarks: sample collection and percentiles. Nothing here asserts. */

export interface LatencyStats {
  readonly iterations: number;
  /** Microseconds. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

/** Nearest-rank percentile of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Summarises samples given in nanoseconds as microseconds. */
export function summarize(samplesNs: readonly number[]): LatencyStats {
  const us = samplesNs.map((n) => n / 1000).sort((a, b) => a - b);
  const sum = us.reduce((a, b) => a + b, 0);
  return {
    iterations: us.length,
    p50: percentile(us, 50),
    p90: percentile(us, 90),
    p99: percentile(us, 99),
    mean: sum / us.length,
    min: us[0] ?? Number.NaN,
    max: us[us.length - 1] ?? Number.NaN,
  };
}

export interface LoopOptions {
  /** Untimed calls first (JIT, caches). */
  readonly warmup: number;
  /** Stop after this many timed calls… */
  readonly maxIterations: number;
  /** …or once this much time was spent timing, whichever comes first… */
  readonly budgetMs: number;
  /** …but never before this many. */
  readonly minIterations: number;
}

/** Times a synchronous function call by call. */
export function timeSync(fn: () => unknown, opts: LoopOptions): LatencyStats {
  for (let i = 0; i < opts.warmup; i++) fn();
  const samples: number[] = [];
  const deadline = performance.now() + opts.budgetMs;
  while (
    samples.length < opts.maxIterations &&
    (samples.length < opts.minIterations || performance.now() < deadline)
  ) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0));
  }
  return summarize(samples);
}

/**
 * Times several functions in alternating rounds (a, b, c, a, b, c, …), so that a noisy moment
 * on a shared machine spreads over all of them instead of skewing one.
 */
export function timeInterleaved(
  fns: Readonly<Record<string, () => unknown>>,
  opts: LoopOptions,
  rounds = 5,
): Record<string, LatencyStats> {
  const names = Object.keys(fns);
  for (const name of names) for (let i = 0; i < opts.warmup; i++) fns[name]!();
  const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 1; r <= rounds; r++) {
    for (const name of names) {
      const fn = fns[name]!;
      const own = samples[name]!;
      const max = Math.ceil((opts.maxIterations * r) / rounds);
      const min = Math.ceil((opts.minIterations * r) / rounds);
      const deadline = performance.now() + opts.budgetMs / rounds;
      while (own.length < max && (own.length < min || performance.now() < deadline)) {
        const t0 = process.hrtime.bigint();
        fn();
        own.push(Number(process.hrtime.bigint() - t0));
      }
    }
  }
  return Object.fromEntries(names.map((n) => [n, summarize(samples[n]!)]));
}

/** CPU time stolen by the hypervisor and used by other processes, from /proc/stat. */
export function cpuSnapshot(): { total: number; steal: number; idle: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return {
      total: f.slice(0, 8).reduce((a, b) => a + b, 0),
      idle: (f[3] ?? 0) + (f[4] ?? 0),
      steal: f[7] ?? 0,
    };
  } catch {
    return undefined;
  }
}

/** Times an asynchronous function call by call (sequentially, never overlapping). */
export async function timeAsync(
  fn: (i: number) => Promise<unknown>,
  opts: LoopOptions,
): Promise<LatencyStats> {
  for (let i = 0; i < opts.warmup; i++) await fn(i);
  const samples: number[] = [];
  const deadline = performance.now() + opts.budgetMs;
  while (
    samples.length < opts.maxIterations &&
    (samples.length < opts.minIterations || performance.now() < deadline)
  ) {
    const t0 = process.hrtime.bigint();
    await fn(opts.warmup + samples.length);
    samples.push(Number(process.hrtime.bigint() - t0));
  }
  return summarize(samples);
}

/** "83.1 µs", "12.4 ms", "1.20 s". */
export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return "n/a";
  if (us < 1000) return `${us.toFixed(us < 10 ? 2 : 1)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** A plain-text table with aligned columns. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** Seeded PRNG (mulberry32), so generated inputs are the same on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
