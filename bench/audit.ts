/**
 * `interlock audit --verify` over generated histories: wall time, requests verified per second,
 * and the peak RSS of the audit process (GNU time -v, else resourceUsage inside a child).
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, createReadStream, existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { packageRoot } from "../src/policy/toolchain.ts";

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
      process.env,
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
      { ...process.env, BENCH_RUSAGE_FILE: rusage },
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
