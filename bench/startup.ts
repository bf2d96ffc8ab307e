/**
 * Start-up of the installed command: `node -e 0`, `interlock --help` and `interlock evaluate`
 * of a 2 KB request, each as a fresh process, interleaved round by round (so a busy neighbour
 * slows all three alike), on every Node given. bin/interlock.js runs the built lib/ (built
 * here first) and turns on Node's compile cache where Node has one (22.1+); a few untimed
 * runs fill it, as any earlier use of the command would.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../src/policy/toolchain.ts";
import { requestJson } from "./fixtures.ts";
import { summarize, type LatencyStats } from "./stats.ts";

export interface StartupCase {
  readonly label: string;
  readonly stats: LatencyStats;
  /** Mean CPU time (user + system) of the process, ms (the kernel counts it in 10 ms ticks). */
  readonly cpuMs: number;
  /** Median of this case's time over the same round's `node -e 0`. */
  readonly ratioToNode: number;
}

export interface StartupRun {
  readonly node: string;
  readonly version: string;
  readonly compileCache: boolean;
  readonly rounds: number;
  readonly requestBytes: number;
  readonly cases: StartupCase[];
}

export interface StartupResult {
  readonly runs: StartupRun[];
  readonly missing: Record<string, string>;
}

/** Node 24 from the npm registry (the `node` package), as `npx -y -p node@24 which node`. */
export function node24(): string {
  return execFileSync("npx", ["-y", "-p", "node@24", "which", "node"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  }).trim();
}

/** CPU time of this process's waited-for children so far, ms (Linux: /proc/self/stat). */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // cutime and cstime are fields 16 and 17 of stat(5); fields[0] is field 3.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** One fresh process: its wall time (ns) and CPU time (ms). */
function measure(node: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv) {
  const cpu0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(node, args, { cwd, env, stdio: ["ignore", "ignore", "pipe"] });
  const ns = Number(process.hrtime.bigint() - t0);
  // evaluate exits 3 when the policy denies: a result, not a failure.
  if (r.status !== 0 && !(args.includes("evaluate") && r.status === 3)) {
    throw new Error(`${node} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return { ns, cpuMs: childrenCpuMs() - cpu0 };
}

export function benchStartup(
  scratch: string,
  nodes: readonly string[],
  rounds = 20,
  log: (msg: string) => void = () => {},
): StartupRun[] {
  const root = packageRoot();
  execFileSync(process.execPath, [join(root, "scripts", "build-lib.mjs")], { stdio: "ignore" });
  const bin = join(root, "bin", "interlock.js");
  const dir = mkdtempSync(join(scratch, "startup-"));
  const empty = join(dir, "work");
  mkdirSync(empty);
  const request = join(dir, "request.json");
  const json = requestJson(2 * 1024);
  writeFileSync(request, json);
  const runs: StartupRun[] = [];
  for (const node of nodes) {
    const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
    // A compile cache of this run's own, filled by the untimed runs below.
    const cache = mkdtempSync(join(tmpdir(), "interlock-compile-cache-"));
    const env = { ...process.env, NODE_COMPILE_CACHE: cache, INTERLOCK_HOME: join(dir, "home") };
    const cases: [string, string[]][] = [
      ["node -e 0", ["-e", "0"]],
      ["interlock --help", [bin, "--help"]],
      ["interlock evaluate (2 KB)", [bin, "evaluate", request]],
    ];
    log(`startup: ${version}, ${rounds} interleaved rounds…`);
    for (let i = 0; i < 3; i++) for (const [, args] of cases) measure(node, args, empty, env);
    const samples = cases.map(() => [] as number[]);
    const ratios = cases.map(() => [] as number[]);
    const cpu = cases.map(() => 0);
    for (let r = 0; r < rounds; r++) {
      const times = cases.map(([, args]) => measure(node, args, empty, env));
      times.forEach((t, i) => {
        samples[i]!.push(t.ns);
        ratios[i]!.push(t.ns / times[0]!.ns);
        cpu[i]! += t.cpuMs;
      });
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const compileCache = Number(version.slice(1).split(".")[0]) >= 22;
    runs.push({
      node,
      version,
      compileCache,
      rounds,
      requestBytes: Buffer.byteLength(json),
      cases: cases.map(([label], i) => ({
        label,
        stats: summarize(samples[i]!),
        cpuMs: cpu[i]! / rounds,
        ratioToNode: median(ratios[i]!),
      })),
    });
    rmSync(cache, { recursive: true, force: true });
  }
  rmSync(dir, { recursive: true, force: true });
  return runs;
}
