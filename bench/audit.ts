/**
 * `interlock audit --verify` over generated histories (bench/history.ts): a full pass (wall
 * time, requests verified per second, CPU, peak RSS of the audit process) and the incremental
 * pass after a signed checkpoint (in-process and as the CLI process).
 *
 *   npx tsx bench/audit.ts 100000            # incremental: checkpoint, then the last 100 requests
 *   npx tsx bench/audit.ts 10000 --full      # and a full pass
 *   npx tsx bench/audit.ts 10000 --new 500   # 500 requests after the checkpoint
 *
 * Histories come from the cache (~/.cache/interlock-bench/histories, generated on first use).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, createReadStream, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { auditTrail, withdrawalsAt } from "../src/audit/audit.ts";
import { recordCheckpoint } from "../src/audit/checkpoint.ts";
import { packageRoot } from "../src/policy/toolchain.ts";
import { repoHome } from "../src/settings/home.ts";
import { generateHistory, historyHome, RESULT_BATCH, verifyTagsWithGit } from "./history.ts";
import { loadConfig } from "../src/config/config.ts";

export interface AuditRun {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly maxRssKiB: number;
  /** CPU seconds of the audit and the git processes it waited for. */
  readonly userSeconds: number | null;
  readonly systemSeconds: number | null;
  readonly exitCode: number;
  /** From the JSON Lines output: records, findings, problems, statuses. */
  readonly records: number;
  readonly findings: number;
  readonly problems: number;
  readonly statuses: Record<string, number>;
  readonly approvers: Record<string, number>;
  readonly measuredWith: string;
}

const GNU_TIME = "/usr/bin/time";

function hasGnuTime(): boolean {
  return existsSync(GNU_TIME) && spawnSync(GNU_TIME, ["-v", "true"]).status === 0;
}

async function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  stdoutFile: string,
): Promise<{ code: number; stderr: string; seconds: number }> {
  const fd = openSync(stdoutFile, "w");
  const t0 = process.hrtime.bigint();
  try {
    const proc = spawn(cmd, args, { cwd, env, stdio: ["ignore", fd, "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-20000)));
    const code: number = await new Promise((resolve, reject) => {
      proc.on("error", reject);
      proc.on("close", (c) => resolve(c ?? 1));
    });
    return { code, stderr, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  } finally {
    closeSync(fd);
  }
}

async function summarizeOutput(file: string) {
  let records = 0;
  let findings = 0;
  let problems = 0;
  const statuses: Record<string, number> = {};
  const approvers: Record<string, number> = {};
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    const item = JSON.parse(line) as {
      finding?: unknown;
      status?: string;
      problems?: string[];
      approvers?: string[];
    };
    if (item.finding !== undefined) {
      findings++;
      continue;
    }
    records++;
    problems += item.problems?.length ?? 0;
    statuses[item.status ?? "?"] = (statuses[item.status ?? "?"] ?? 0) + 1;
    const key = (item.approvers ?? []).join("+") || "none";
    approvers[key] = (approvers[key] ?? 0) + 1;
  }
  return { records, findings, problems, statuses, approvers };
}

/**
 * Runs the audit of `repo` once. Output goes to a scratch file (read back afterwards to check
 * the result), which costs the same as /dev/null for a few MB.
 */
export async function auditOnce(repo: string, requests: number): Promise<AuditRun> {
  const root = packageRoot();
  const out = join(repo, ".git", "bench-audit.jsonl");
  const cliArgs = ["audit", "--verify", "--json", "--repo", repo];
  const env = { ...process.env, INTERLOCK_HOME: historyHome(repo) };
  let r: { code: number; stderr: string; seconds: number };
  let maxRssKiB: number;
  let userSeconds: number | null = null;
  let systemSeconds: number | null = null;
  let measuredWith: string;
  if (hasGnuTime()) {
    const timeFile = join(repo, ".git", "bench-audit.time");
    r = await run(
      GNU_TIME,
      ["-v", "-o", timeFile, process.execPath, join(root, "bin", "interlock.js"), ...cliArgs],
      root,
      env,
      out,
    );
    const t = readFileSync(timeFile, "utf8");
    const num = (label: string) =>
      Number(new RegExp(`${label}: ([0-9.]+)`).exec(t)?.[1] ?? Number.NaN);
    maxRssKiB = num("Maximum resident set size \\(kbytes\\)");
    userSeconds = num("User time \\(seconds\\)");
    systemSeconds = num("System time \\(seconds\\)");
    measuredWith = "GNU time -v (max RSS of the largest process: the node audit process)";
  } else {
    const rusage = join(repo, ".git", "bench-audit.rusage");
    r = await run(
      process.execPath,
      ["--import", "tsx", join(root, "bench", "audit-child.ts"), ...cliArgs],
      root,
      { ...env, BENCH_RUSAGE_FILE: rusage },
      out,
    );
    maxRssKiB = (JSON.parse(readFileSync(rusage, "utf8")) as { maxRssKiB: number }).maxRssKiB;
    measuredWith = "process.resourceUsage().maxRSS in the audit process";
  }
  const summary = await summarizeOutput(out);
  rmSync(out, { force: true });
  return {
    requests,
    seconds: r.seconds,
    requestsPerSecond: summary.records / r.seconds,
    maxRssKiB,
    userSeconds,
    systemSeconds,
    exitCode: r.code,
    ...summary,
    measuredWith,
  };
}

export interface IncrementalRun {
  readonly requests: number;
  readonly newRequests: number;
  /** auditTrail in-process, given the checkpoint's tip and root (the library path). */
  readonly inProcess: { seconds: number; cpuSeconds: number; records: number; problems: number };
  /** `node bin/interlock.js audit --verify --json` as a process (start-up included). */
  readonly cli: { seconds: number; exitCode: number; records: number; problems: number };
}

/**
 * Re-verification after a checkpoint: the history's default branch is checkpointed (signed with
 * the auditor's key, as `audit --verify --checkpoint` records it) just before its last
 * `newRequests` requests, then audited with the checkpoint.
 */
export async function auditIncremental(
  repo: string,
  requests: number,
  newRequests: number,
): Promise<IncrementalRun> {
  if (newRequests % RESULT_BATCH !== 0)
    throw new Error(`--new must be a multiple of ${RESULT_BATCH}`);
  const home = historyHome(repo);
  const git = (args: string[]) =>
    execFileSync("git", args, { cwd: repo, encoding: "utf8", maxBuffer: 1 << 26 }).trim();
  // Main has one merge per request and one result commit per RESULT_BATCH requests.
  const back = newRequests + newRequests / RESULT_BATCH;
  const tip = git(["rev-parse", `main~${back}`]);
  const root = git(["rev-list", "--max-parents=0", "main"]);
  // As `audit --verify --checkpoint` records it (with the withdrawals reachable from its tip).
  const withdrawals = await withdrawalsAt(repo, tip);
  recordCheckpoint(repoHome(home, root), {
    version: 1,
    root,
    branch: "main",
    tip,
    records: requests - newRequests,
    at: new Date().toISOString(),
    withdrawals,
  });
  let records = 0;
  let problems = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for await (const item of auditTrail({
    repoDir: repo,
    branch: "main",
    verify: true,
    home,
    checkpoint: { tip, root, withdrawals },
  })) {
    if ("commit" in item) problems++;
    else {
      records++;
      problems += item.problems?.length ?? 0;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const out = join(tmpdir(), `bench-audit-incremental-${process.pid}.jsonl`);
  const r = await run(
    process.execPath,
    [join(packageRoot(), "bin", "interlock.js"), "audit", "--verify", "--json", "--repo", repo],
    packageRoot(),
    { ...process.env, INTERLOCK_HOME: home },
    out,
  );
  const summary = await summarizeOutput(out);
  rmSync(out, { force: true });
  return {
    requests,
    newRequests,
    inProcess: { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, records, problems },
    cli: {
      seconds: r.seconds,
      exitCode: r.code,
      records: summary.records,
      problems: summary.problems + summary.findings,
    },
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: {
      new: { type: "string", default: "100" },
      full: { type: "boolean", default: false },
      dir: { type: "string" },
    },
    allowPositionals: true,
  });
  const n = Number(positionals[0] ?? 10_000);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error("usage: bench/audit.ts <requests> [--new 100] [--full]");
  const dir = values.dir ?? join(tmpdir(), `interlock-bench-audit-${process.pid}`, "repo");
  const history = await generateHistory(dir, n);
  process.stderr.write(
    `history of ${n}: ${history.source}${history.seconds ? ` in ${history.seconds.toFixed(1)} s` : ""} (${dir})\n`,
  );
  const verified = verifyTagsWithGit(dir, loadConfig(dir));
  process.stderr.write(`git verify-tag/verify-commit accept ${verified.length} sampled objects\n`);
  const out: Record<string, unknown> = { history };
  if (values.full) {
    out.full = await auditOnce(dir, n);
    process.stderr.write(`full: ${JSON.stringify(out.full)}\n`);
  }
  out.incremental = await auditIncremental(dir, n, Number(values.new));
  console.log(JSON.stringify(out, null, 2));
  if (!values.dir) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(historyHome(dir), { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
