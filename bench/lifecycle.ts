/**
 * The approval lifecycle on the local Git forge: request → proposal (fileRequest), approve
 * (recordReview, a signed tag), and the gate (checkGate), in-process with the same
 * dependencies the CLI builds (openLocalRepo: LocalForge, loadConfig, loadRepoContext).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalRepo, type LocalRepo } from "../src/cli/local.ts";
import { parseSshPrivateKey } from "../src/forge/local/sshsig.ts";
import { fileRequest } from "../src/lifecycle/file-request.ts";
import { checkGate } from "../src/lifecycle/gate-check.ts";
import { initRepository } from "../src/lifecycle/init.ts";
import { recordReview } from "../src/lifecycle/review.ts";
import { parseRequest } from "../src/request/parse.ts";
import { packageRoot } from "../src/policy/toolchain.ts";
import { KEYS_SUBDIR } from "../src/settings/home.ts";
import { requestJson } from "./fixtures.ts";
import { summarize, type LatencyStats } from "./stats.ts";

export interface LifecycleResult {
  readonly repo: string;
  readonly initSeconds: number;
  readonly fileRequest: LatencyStats;
  readonly recordReview: LatencyStats;
  readonly checkGate: LatencyStats;
  readonly gate: { satisfied: boolean; summary: string; approvals: number };
  /** The same steps as CLI processes (node bin/interlock.js …), start-up included. */
  readonly cli: { request: LatencyStats; gate: LatencyStats };
}

/** The Interlock home of a bench repository: a sibling directory, never inside it. */
export function benchHome(dir: string): string {
  return `${dir}.interlock-home`;
}

async function timed<T>(samples: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = process.hrtime.bigint();
  const out = await fn();
  samples.push(Number(process.hrtime.bigint() - t0));
  return out;
}

/** Files `count` requests (after `warmup` untimed ones); returns their ids, oldest first. */
export async function fileRequests(
  local: LocalRepo,
  count: number,
  warmup: number,
  startMs: number,
): Promise<{ ids: string[]; stats: LatencyStats }> {
  const request = parseRequest(requestJson(2048), { source: "bench 2 KB" });
  const keyFile = join(local.home, KEYS_SUBDIR, request.requester.id);
  const signingKey = parseSshPrivateKey(readFileSync(keyFile, "utf8"), keyFile);
  const samples: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const file = () =>
      fileRequest(request, {
        forge: local.forge,
        decide: {
          engine: local.repo.engine,
          now: new Date(startMs + i * 1000),
          repo: local.repo.repoName,
          hmacKey: local.repo.hmacKey,
        },
        recipients: local.config.executors.recipients,
        signingKey,
      });
    const filed = i < warmup ? await file() : await timed(samples, file);
    if (filed.denied) throw new Error(`the bench request was denied: ${filed.path}`);
    ids.push(filed.id);
  }
  return { ids, stats: summarize(samples) };
}

/** Two signed approvals (dana for data-stewards, sam for security) on each proposal. */
export async function approveAll(
  local: LocalRepo,
  ids: readonly string[],
  at: Date,
): Promise<LatencyStats> {
  const samples: number[] = [];
  for (const id of ids) {
    for (const who of ["dana", "sam"]) {
      await timed(samples, () =>
        recordReview(local.forge, {
          id,
          who,
          state: "approved",
          keyFile: join(local.home, KEYS_SUBDIR, who),
          now: at,
        }),
      );
    }
  }
  return summarize(samples);
}

export async function timeGate(
  local: LocalRepo,
  id: string,
  at: Date,
  count: number,
  warmup: number,
): Promise<{ stats: LatencyStats; gate: LifecycleResult["gate"] }> {
  const first = await checkGate(local.forge, id, at);
  if (!first.verdict.satisfied) throw new Error(`the gate does not hold: ${first.verdict.summary}`);
  for (let i = 1; i < warmup; i++) await checkGate(local.forge, id, at);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) await timed(samples, () => checkGate(local.forge, id, at));
  return {
    stats: summarize(samples),
    gate: {
      satisfied: first.verdict.satisfied,
      summary: first.verdict.summary,
      approvals: first.verdict.approvals.filter((a) => a.counted).length,
    },
  };
}

function cliRuns(args: string[], runs: number, cwd: string): LatencyStats {
  const bin = join(packageRoot(), "bin", "interlock.js");
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: "utf8" });
    samples.push(Number(process.hrtime.bigint() - t0));
    if (r.status !== 0) throw new Error(`interlock ${args.join(" ")} failed: ${r.stderr}`);
  }
  return summarize(samples);
}

export async function benchLifecycle(
  dir: string,
  opts = { requests: 30, gates: 30, cliRuns: 5 },
): Promise<LifecycleResult> {
  // An hour ago, so that the CLI's own clock (used by `interlock gate`) is later than every
  // review, and earlier than the expiry (critical requests live 4 hours).
  const T = Date.now() - 60 * 60 * 1000;
  const t0 = performance.now();
  await initRepository(dir, new Date(T), { home: benchHome(dir) });
  const initSeconds = (performance.now() - t0) / 1000;
  const local = await openLocalRepo(dir, dir, { INTERLOCK_HOME: benchHome(dir) });

  const filed = await fileRequests(local, opts.requests, 3, T);
  // Approve a handful of proposals (each approval: one tag, signed in-process, written by mktag).
  const reviewedAt = new Date(T + 10 * 60 * 1000);
  const toApprove = filed.ids.slice(-5);
  const review = await approveAll(local, toApprove, reviewedAt);
  const gate = await timeGate(local, toApprove[toApprove.length - 1]!, reviewedAt, opts.gates, 3);

  // The CLI, one process per command (what an agent or a CI step pays).
  const requestFile = join(dir, ".git", "bench-request.json");
  writeFileSync(requestFile, requestJson(2048));
  const cli = {
    request: cliRuns(["request", requestFile, "--repo", dir, "--json"], opts.cliRuns, dir),
    gate: cliRuns(["gate", toApprove[toApprove.length - 1]!, "--repo", dir], opts.cliRuns, dir),
  };
  return {
    repo: dir,
    initSeconds,
    fileRequest: filed.stats,
    recordReview: review,
    checkGate: gate.stats,
    gate: gate.gate,
    cli,
  };
}

/**
 * `npx tsx bench/lifecycle.ts [count]`: request → proposal alone (fileRequest in-process on a
 * fresh `interlock init`), its wall-clock percentiles and the CPU it costs this process (the
 * git processes it starts are not in that figure).
 */
async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 30);
  const root = mkdtempSync(join(tmpdir(), "interlock-bench-lifecycle-"));
  const dir = join(root, "repo");
  try {
    const T = Date.now() - 60 * 60 * 1000;
    await initRepository(dir, new Date(T), { home: benchHome(dir) });
    const local = await openLocalRepo(dir, dir, { INTERLOCK_HOME: benchHome(dir) });
    await fileRequests(local, 0, 3, T);
    const c0 = process.cpuUsage();
    const { stats } = await fileRequests(local, count, 0, T + 10_000);
    const cpu = process.cpuUsage(c0);
    const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;
    console.log(
      JSON.stringify({
        fileRequest: {
          p50: ms(stats.p50),
          p90: ms(stats.p90),
          p99: ms(stats.p99),
          n: stats.iterations,
        },
        nodeCpuPerRequest: ms((cpu.user + cpu.system) / count),
        loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
      }),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
