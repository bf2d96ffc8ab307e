/**
 * `npm run bench`: Interlock's benchmark suite. Prints a summary and writes bench/results.json.
 * Benchmarks only measure and report; nothing here fails because a number is slow.
 *
 *   npm run bench                       decide, opa, linear, detect, ab, lifecycle, startup
 *   npm run bench -- detect             one section (or several: -- detect linear)
 *   npm run bench -- audit              the long audit section (minutes; not in the default)
 *
 * Environment:
 *   BENCH_ONLY          comma-separated sections (the same as the arguments)
 *   BENCH_AUDIT_SIZES   history sizes for the audit (default "1000,5000,10000,100000"); a size
 *                       whose predicted generation + audit time (power law through the two
 *                       largest sizes run so far) is over BENCH_AUDIT_MAX_SECONDS is extrapolated
 *                       instead of run, unless it is listed here explicitly
 *   BENCH_AUDIT_MAX_SECONDS  default 180
 *   BENCH_BASELINE      the commit of the speed A/B (default 14a8e74)
 *   BENCH_CACHE         where peers are installed (default ~/.cache/interlock-bench)
 *   BENCH_KEEP=1        keep the generated repositories (their paths are printed)
 *   BENCH_RESULTS       where to write the JSON (default bench/results.json; a partial run
 *                       merges its sections into the file)
 *   BENCH_STARTUP_NODES comma-separated Node binaries for the startup section (default: this
 *                       Node and Node 24 from the registry, npx -y -p node@24 which node)
 *   BENCH_STARTUP_ROUNDS interleaved rounds per Node (default 20)
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { openLocalRepo } from "../src/cli/local.ts";
import { loadConfig } from "../src/config/config.ts";
import { findOpa, opaVersion } from "../src/policy/toolchain.ts";
import { benchAB, type AbResult } from "./ab.ts";
import { auditOnce, type AuditRun } from "./audit.ts";
import {
  benchDecide,
  benchThroughput,
  context,
  loadEngine,
  sizedRequests,
  type DecideResult,
  type ThroughputResult,
} from "./decide.ts";
import { benchDetect, PII_TYPES, type DetectResult } from "./detect.ts";
import { generateHistory, verifyTagsWithGit, type GeneratedHistory } from "./history.ts";
import { benchLinear } from "./linear.ts";
import { benchHome, benchLifecycle, fileRequests, type LifecycleResult } from "./lifecycle.ts";
import { benchOpaServer, type OpaServerResult } from "./opa-server.ts";
import { ensurePeers } from "./peers.ts";
import { benchStartup, node24, type StartupRun } from "./startup.ts";
import { cpuSnapshot, fmtBytes, fmtUs, table, type LatencyStats } from "./stats.ts";

const here = dirname(fileURLToPath(import.meta.url));
const started = performance.now();
/**
 * 1-minute load average and the share of CPU time stolen by the hypervisor since the previous
 * progress line: other work on a shared machine skews the numbers, and this shows when it did.
 */
const loads: { at: string; load1: number; stealPercent: number | null }[] = [];
let lastCpu = cpuSnapshot();
const log = (msg: string) => {
  const load1 = loadavg()[0] ?? 0;
  const cpu = cpuSnapshot();
  const stealPercent =
    cpu && lastCpu && cpu.total > lastCpu.total
      ? (100 * (cpu.steal - lastCpu.steal)) / (cpu.total - lastCpu.total)
      : null;
  lastCpu = cpu;
  loads.push({ at: msg, load1, stealPercent });
  process.stderr.write(
    `[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s, load ${load1.toFixed(1)}` +
      `${stealPercent === null ? "" : `, steal ${stealPercent.toFixed(1)}%`}] ${msg}\n`,
  );
};

const TARGETS = {
  decideP50Us2KB: 100,
  speedupVsOpaServer: 10,
  maskingMBps: 50,
  maskingVsGitleaks: 5,
  precision: 0.9,
  linearMs: 1000,
  auditRequestsPerSecond: 10_000,
  /** Process start-up over `node -e 0`'s, on Node 24 (median of the rounds' ratios). */
  helpOverNode: 2,
  evaluateOverNode: 3,
};
const SECTIONS = ["decide", "opa", "linear", "detect", "ab", "lifecycle", "startup", "audit"];
const DEFAULT_SECTIONS = "decide,opa,linear,detect,ab,lifecycle,startup";

function machine() {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  const git = execFileSync("git", ["--version"], { encoding: "utf8" }).trim();
  let opa = "not found";
  try {
    opa = opaVersion(findOpa());
  } catch {
    // reported as not found
  }
  const root = join(here, "..");
  const revision = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "policies"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean)
    .map((l) => l.slice(3));
  return {
    interlock: dirty.length > 0 ? `${revision} + uncommitted ${dirty.join(", ")}` : revision,
    nproc: availableParallelism(),
    cpu: model,
    memory: fmtBytes(totalmem()),
    node: process.version,
    opa,
    git,
    platform: `${process.platform} ${process.arch}`,
  };
}

const row = (label: string, s: LatencyStats): string[] => [
  label,
  fmtUs(s.p50),
  fmtUs(s.p90),
  fmtUs(s.p99),
  fmtUs(s.mean),
  String(s.iterations),
];
const LAT_HEADER = ["", "p50", "p90", "p99", "mean", "n"];

/** t = a·n^b through the two largest sizes; returns the exponent and a predictor. */
function powerFit(points: readonly { n: number; v: number }[]) {
  const sorted = [...points].sort((a, b) => a.n - b.n);
  const p1 = sorted[sorted.length - 2];
  const p2 = sorted[sorted.length - 1];
  if (!p1 || !p2 || p1.n === p2.n) return undefined;
  const b = Math.log(p2.v / p1.v) / Math.log(p2.n / p1.n);
  return { exponent: b, at: (n: number) => p2.v * (n / p2.n) ** b };
}

interface AuditSize {
  readonly history: GeneratedHistory;
  readonly verifyTag: string[];
  readonly audit: AuditRun;
  /** fileRequest on this history (each commit rewrites the trees of the flat directories). */
  readonly fileRequest: LatencyStats;
}

async function main() {
  const args = process.argv.slice(2).flatMap((a) => a.split(","));
  const only = new Set(
    (args.length > 0 ? args : (process.env.BENCH_ONLY ?? DEFAULT_SECTIONS).split(","))
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const s of only) {
    if (!SECTIONS.includes(s))
      throw new Error(`unknown section '${s}'; sections: ${SECTIONS.join(", ")}`);
  }
  const keep = process.env.BENCH_KEEP === "1";
  const resultsFile = process.env.BENCH_RESULTS ?? join(here, "results.json");
  // A partial run keeps the other sections' last results (each carries its own date).
  const previous: Record<string, unknown> =
    existsSync(resultsFile) && only.size < SECTIONS.length
      ? (JSON.parse(readFileSync(resultsFile, "utf8")) as Record<string, unknown>)
      : {};
  const date = new Date().toISOString();
  const results: Record<string, unknown> = {
    ...previous,
    date,
    sections: [...only],
    machine: machine(),
  };
  const out: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), "interlock-bench-"));
  try {
    // ---------------------------------------------------------------- decide and mask
    let decide: DecideResult[] | undefined;
    let throughput: ThroughputResult | undefined;
    let opa: OpaServerResult | undefined;
    let linear: ReturnType<typeof benchLinear> | undefined;
    if (only.has("decide") || only.has("opa") || only.has("linear")) {
      const engine = await loadEngine();
      const ctx = context(engine);
      const requests = sizedRequests(ctx);
      if (only.has("decide")) {
        log("decide and mask: 2 KB and 100 KB requests…");
        decide = benchDecide(ctx, requests);
        log("masking throughput over the mixed corpus…");
        throughput = benchThroughput();
        results.decide = decide;
        results.throughput = throughput;
      }
      if (only.has("linear")) {
        log("linear: 1 MiB requests shaped against every step, and nesting bombs…");
        linear = benchLinear(ctx);
        results.linear = linear;
      }
      if (only.has("opa")) {
        log("the same decisions from an OPA server…");
        opa = await benchOpaServer(engine, requests);
        results.opaServer = opa;
      }
    }
    if (decide) {
      out.push("Decide and mask (in-process, one thread)");
      const rows: string[][] = [];
      for (const d of decide) {
        rows.push(row(`${d.label} decideAndMask`, d.decideAndMask));
        rows.push(row(`  scan`, d.scan));
        rows.push(row(`  engine.decide`, d.policy));
        rows.push(row(`  maskDocument`, d.mask));
        rows.push(row(`  maskText over the results`, d.maskTexts));
        rows.push(row(`  (parseRequest, before)`, d.parseRequest));
      }
      out.push(table(LAT_HEADER, rows));
      for (const d of decide) {
        out.push(
          `  ${d.label}: ${d.bytes} bytes, ${d.findings} findings, ${d.maskRules} mask rules, ` +
            `decision ${d.decision.allow ? "allow" : "deny"} ${d.decision.risk} (${d.decision.groups.join(" + ")})`,
        );
      }
    }
    if (throughput) {
      out.push(
        "",
        `Masking throughput (scan + maskDocument, ${throughput.documents} documents, ` +
          `${(throughput.bytes / 1e6).toFixed(1)} MB, ${throughput.strings} strings, ` +
          `${throughput.planted} sensitive planted, ${throughput.findings} found)`,
        `  median ${throughput.medianMBps.toFixed(1)} MB/s, best ${throughput.bestMBps.toFixed(1)} MB/s ` +
          `over ${throughput.passes} passes; scan is ${(throughput.scanShare * 100).toFixed(0)}% of the time`,
      );
    }
    if (opa) {
      out.push(
        "",
        `OPA server round trip (${opa.version}, keep-alive HTTP, same decision verified)`,
      );
      const rows: string[][] = [];
      for (const [label, s] of Object.entries(opa.roundTrip)) {
        rows.push(row(`${label} POST /v1/data/interlock/decision`, s));
        const side = opa.serverSide[label];
        if (side) {
          rows.push([
            `  server-side handler / eval p50`,
            fmtUs(side.handlerP50),
            fmtUs(side.evalP50),
            "",
            "",
            String(side.samples),
          ]);
        }
      }
      out.push(table(LAT_HEADER, rows));
    }
    if (decide && opa) {
      const rows: string[][] = [];
      const ratios: Record<string, unknown> = {};
      for (const d of decide) {
        const rt = opa.roundTrip[d.label];
        if (!rt) continue;
        const policy = rt.p50 / d.policy.p50;
        const whole = rt.p50 / d.decideAndMask.p50;
        ratios[d.label] = { engineDecide: policy, decideAndMask: whole };
        rows.push([
          d.label,
          fmtUs(d.policy.p50),
          fmtUs(d.decideAndMask.p50),
          fmtUs(rt.p50),
          `${policy.toFixed(1)}×`,
          `${whole.toFixed(1)}×`,
        ]);
      }
      results.inProcessVsServer = ratios;
      out.push(
        "",
        "In-process vs OPA server (p50)",
        table(
          [
            "",
            "engine.decide",
            "decideAndMask",
            "server round trip",
            "server/engine",
            "server/decideAndMask",
          ],
          rows,
        ),
      );
    }

    // ---------------------------------------------------------------- linear
    if (linear) {
      out.push(
        "",
        "Linear parse → decide → mask: 1 MiB requests (median of 3; wall and CPU of this process)",
        table(
          ["input", "bytes", "keys", "findings", "parse", "parse+decide+mask", "CPU", "outcome"],
          [...linear.shapes, ...linear.bombs].map((r) => [
            r.name,
            String(r.bytes),
            String(r.keys),
            String(r.findings),
            `${r.parseMs.toFixed(0)} ms`,
            `${r.wallMs.toFixed(0)} ms`,
            `${r.cpuMs.toFixed(0)} ms`,
            r.outcome.slice(0, 70),
          ]),
        ),
      );
    }

    // ---------------------------------------------------------------- detection quality
    let detect: DetectResult | undefined;
    if (only.has("detect")) {
      const peers = ensurePeers(log);
      results.peers = { versions: peers.versions, missing: peers.missing, cache: peers.cache };
      for (const [name, why] of Object.entries(peers.missing))
        log(`peer ${name} not available: ${why}`);
      const r = benchDetect(scratch, peers, log);
      if ("skipped" in r) {
        log(`detect: skipped: ${r.skipped}`);
        results.detect = r;
      } else {
        detect = r;
        results.detect = r;
      }
    }
    if (detect) {
      const pct = (x: number | undefined) => (x === undefined ? "" : `${(x * 100).toFixed(0)}%`);
      const f2 = (x: number | undefined) => (x === undefined ? "" : x.toFixed(2));
      out.push(
        "",
        `Detection (corpus: ${detect.corpus.lines} lines, ${detect.corpus.tokens} tokens, ${detect.corpus.pii} pattern PII, ${detect.corpus.negatives} negatives; seeded)`,
        table(
          ["tool", "token recall", "token precision", "PII recall", "PII precision", "CPU"],
          detect.tools.map((t) => [
            t.tool,
            pct(t.tokens?.recall),
            f2(t.tokens?.precision),
            pct(t.piiOverall?.recall),
            f2(t.piiOverall?.precision),
            t.cpuSeconds === undefined ? "" : `${t.cpuSeconds.toFixed(2)} s`,
          ]),
        ),
      );
      const piiTools = detect.tools.filter((t) => t.pii);
      out.push(
        "",
        "Pattern PII per type: recall / precision",
        table(
          ["type", ...piiTools.map((t) => t.tool)],
          PII_TYPES.map((ty) => [
            ty,
            ...piiTools.map((t) => `${pct(t.pii![ty]?.recall)} / ${f2(t.pii![ty]?.precision)}`),
          ]),
        ),
      );
      const tokTools = detect.tools.filter((t) => t.tokenRecallByType);
      const types = Object.keys(tokTools[0]?.tokenRecallByType ?? {}).sort();
      out.push(
        "",
        "Tokens per type: recall",
        table(
          ["type", ...tokTools.map((t) => t.tool)],
          types.map((ty) => [ty, ...tokTools.map((t) => pct(t.tokenRecallByType![ty]))]),
        ),
      );
      if (detect.speed) {
        const sp = detect.speed;
        out.push(
          "",
          `CPU per byte on the corpus repeated to ${(sp.bytes / 1e6).toFixed(1)} MB: Interlock scan + maskDocument in-process ` +
            `${sp.interlockMBpsPerCore.toFixed(1)} MB/s per core` +
            (sp.gitleaksMBpsPerCore === undefined
              ? ""
              : `; gitleaks (whole process) ${sp.gitleaksMBpsPerCore.toFixed(2)} MB/s per core; Interlock ${sp.ratio!.toFixed(1)}× less CPU per byte`),
        );
      }
    }

    // ---------------------------------------------------------------- A/B against the baseline
    let ab: AbResult | undefined;
    if (only.has("ab")) {
      ab = benchAB(scratch, log);
      results.ab = ab;
      out.push(
        "",
        `Same-run A/B against ${ab.baseline} (${ab.rounds} alternating rounds per side, child processes)`,
        table(
          ["", "this revision", ab.baseline, "this / baseline"],
          [
            [
              "2 KB decideAndMask p50",
              fmtUs(ab.head.decideP50Us),
              fmtUs(ab.base.decideP50Us),
              `${ab.decideRatio.toFixed(2)}×`,
            ],
            [
              "scan + maskDocument, MB/s per core",
              ab.head.maskMBpsPerCore.toFixed(1),
              ab.base.maskMBpsPerCore.toFixed(1),
              `${ab.maskRatio.toFixed(2)}×`,
            ],
          ],
        ),
      );
    }

    // ---------------------------------------------------------------- lifecycle
    let lifecycle: LifecycleResult | undefined;
    if (only.has("lifecycle")) {
      log("lifecycle: init, 30 requests, approvals, 30 gate checks, CLI…");
      lifecycle = await benchLifecycle(join(scratch, "lifecycle"));
      results.lifecycle = lifecycle;
      out.push(
        "",
        `Lifecycle on the local forge (repository from initRepository in ${lifecycle.initSeconds.toFixed(2)} s)`,
        table(LAT_HEADER, [
          row("fileRequest (request → proposal)", lifecycle.fileRequest),
          row("recordReview (one signed approval)", lifecycle.recordReview),
          row(`checkGate (${lifecycle.gate.approvals} signed approvals)`, lifecycle.checkGate),
          row("CLI process: interlock request", lifecycle.cli.request),
          row("CLI process: interlock gate", lifecycle.cli.gate),
        ]),
        `  gate: ${lifecycle.gate.summary}`,
      );
    }

    // ---------------------------------------------------------------- start-up
    let startup: StartupRun[] | undefined;
    if (only.has("startup")) {
      const missing: Record<string, string> = {};
      let nodes = (process.env.BENCH_STARTUP_NODES ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (nodes.length === 0) {
        nodes = [process.execPath];
        try {
          nodes.push(node24());
        } catch (err) {
          missing["node@24"] = (err as Error).message.split("\n")[0] ?? "npx failed";
          log(`startup: Node 24 not available: ${missing["node@24"]}`);
        }
      }
      startup = benchStartup(scratch, nodes, Number(process.env.BENCH_STARTUP_ROUNDS ?? 20), log);
      results.startup = { runs: startup, missing };
      const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;
      for (const run of startup) {
        out.push(
          "",
          `Start-up, ${run.version}${run.compileCache ? " (compile cache on)" : ""}: ${run.rounds} interleaved rounds of fresh processes, wall time; evaluate of ${run.requestBytes} bytes`,
          table(
            ["", "p50", "p90", "min", "max", "× node -e 0 (p50 of the rounds' ratios)", "CPU"],
            run.cases.map((c) => [
              c.label,
              ms(c.stats.p50),
              ms(c.stats.p90),
              ms(c.stats.min),
              ms(c.stats.max),
              `${c.ratioToNode.toFixed(2)}×`,
              `${c.cpuMs.toFixed(0)} ms`,
            ]),
          ),
        );
      }
    }

    // ---------------------------------------------------------------- audit
    const sizes: AuditSize[] = [];
    const skipped: {
      requests: number;
      predictedSeconds: number;
      predictedRssKiB: number;
      predictedGenerationSeconds: number;
    }[] = [];
    if (only.has("audit")) {
      const explicit = process.env.BENCH_AUDIT_SIZES;
      const wanted = (explicit ?? "1000,5000,10000,100000")
        .split(",")
        .map((s) => Number(s.trim()))
        .filter((n) => Number.isInteger(n) && n > 0)
        .sort((a, b) => a - b);
      const limit = Number(process.env.BENCH_AUDIT_MAX_SECONDS ?? 180);
      for (const n of wanted) {
        const timeFit = powerFit(sizes.map((s) => ({ n: s.audit.requests, v: s.audit.seconds })));
        const rssFit = powerFit(sizes.map((s) => ({ n: s.audit.requests, v: s.audit.maxRssKiB })));
        const genFit = powerFit(sizes.map((s) => ({ n: s.audit.requests, v: s.history.seconds })));
        const predicted = timeFit?.at(n);
        const predictedGen = genFit?.at(n) ?? 0;
        if (predicted !== undefined && predicted + predictedGen > limit && !explicit) {
          skipped.push({
            requests: n,
            predictedSeconds: predicted,
            predictedRssKiB: rssFit?.at(n) ?? Number.NaN,
            predictedGenerationSeconds: predictedGen,
          });
          log(
            `audit: ${n} requests skipped (predicted audit ${predicted.toFixed(0)} s + generation ${predictedGen.toFixed(0)} s > ${limit} s)`,
          );
          continue;
        }
        const dir = join(scratch, `history-${n}`);
        log(`audit: generating a history of ${n} requests with git fast-import…`);
        const history = await generateHistory(dir, n);
        const verifyTag = verifyTagsWithGit(dir, loadConfig(dir));
        log(
          `audit: generated in ${history.seconds.toFixed(1)} s; git verify-tag accepts ${verifyTag.length} sampled tags; running audit --verify…`,
        );
        const audit = await auditOnce(dir, n);
        if (audit.exitCode !== 0 || audit.problems > 0 || audit.records !== n) {
          throw new Error(
            `audit --verify of the ${n}-request history: exit ${audit.exitCode}, ${audit.records} records, ${audit.problems} problems, ${audit.findings} findings`,
          );
        }
        log(`audit: ${audit.seconds.toFixed(1)} s; fileRequest on this history…`);
        const local = await openLocalRepo(dir, dir, { INTERLOCK_HOME: benchHome(dir) });
        const { stats: fileRequest } = await fileRequests(local, 10, 2, Date.now());
        sizes.push({ history, verifyTag, audit, fileRequest });
        if (!keep) rmSync(dir, { recursive: true, force: true });
      }
      const timeFit = powerFit(sizes.map((s) => ({ n: s.audit.requests, v: s.audit.seconds })));
      const rssFit = powerFit(sizes.map((s) => ({ n: s.audit.requests, v: s.audit.maxRssKiB })));
      results.audit = {
        sizes,
        skipped,
        fit: {
          timeExponent: timeFit?.exponent ?? null,
          rssExponent: rssFit?.exponent ?? null,
        },
      };
      out.push(
        "",
        "audit --verify over generated histories (each request: proposal, 2 signed approvals, merge, claim, result)",
        table(
          ["requests", "time", "verified/s", "peak RSS", "CPU user+sys", "generation", "pack"],
          [
            ...sizes.map((s) => [
              String(s.audit.requests),
              `${s.audit.seconds.toFixed(1)} s`,
              s.audit.requestsPerSecond.toFixed(0),
              fmtBytes(s.audit.maxRssKiB * 1024),
              s.audit.userSeconds === null
                ? "n/a"
                : `${((s.audit.userSeconds ?? 0) + (s.audit.systemSeconds ?? 0)).toFixed(1)} s`,
              `${s.history.seconds.toFixed(1)} s (fast-import ${fmtBytes(s.history.fastImportMaxRssKiB * 1024)})`,
              fmtBytes(s.history.packBytes),
            ]),
            ...skipped.map((s) => [
              String(s.requests),
              `~${s.predictedSeconds.toFixed(0)} s (extrapolated)`,
              `~${(s.requests / s.predictedSeconds).toFixed(0)}`,
              `~${fmtBytes(s.predictedRssKiB * 1024)}`,
              "not run",
              `not run (~${s.predictedGenerationSeconds.toFixed(0)} s)`,
              "",
            ]),
          ],
        ),
      );
      if (timeFit) {
        out.push(
          `  growth between the two largest runs: time ∝ n^${timeFit.exponent.toFixed(2)}, peak RSS ∝ n^${rssFit?.exponent.toFixed(2) ?? "?"}`,
        );
      }
      if (sizes.length > 0) {
        out.push(
          "",
          "fileRequest (request → proposal) as the history grows",
          table(LAT_HEADER, [
            ...(lifecycle ? [row("empty repository", lifecycle.fileRequest)] : []),
            ...sizes.map((s) => row(`${s.audit.requests} requests in history`, s.fileRequest)),
          ]),
        );
      }
      for (const s of sizes) {
        out.push(
          `  ${s.audit.requests}: 0 problems, ${s.audit.records} records (${Object.entries(
            s.audit.statuses,
          )
            .map(([k, v]) => `${v} ${k}`)
            .join(", ")}); approvers ${Object.entries(s.audit.approvers)
            .map(([k, v]) => `${k} ×${v}`)
            .join(", ")}`,
        );
      }
    }

    // ---------------------------------------------------------------- targets
    const targets: { target: string; reached: string; met: boolean | null }[] = [];
    const d2 = decide?.find((d) => d.label === "2 KB");
    if (d2) {
      targets.push({
        target: `decideAndMask p50 ≤ ${TARGETS.decideP50Us2KB} µs (2 KB)`,
        reached: fmtUs(d2.decideAndMask.p50),
        met: d2.decideAndMask.p50 <= TARGETS.decideP50Us2KB,
      });
    }
    if (d2 && opa?.roundTrip["2 KB"]) {
      const rt = opa.roundTrip["2 KB"];
      targets.push({
        target: `≥ ${TARGETS.speedupVsOpaServer}× faster than the OPA server round trip (2 KB, decideAndMask)`,
        reached: `${(rt.p50 / d2.decideAndMask.p50).toFixed(1)}×`,
        met: rt.p50 / d2.decideAndMask.p50 >= TARGETS.speedupVsOpaServer,
      });
      targets.push({
        target: `  same, policy evaluation alone (engine.decide)`,
        reached: `${(rt.p50 / d2.policy.p50).toFixed(1)}×`,
        met: rt.p50 / d2.policy.p50 >= TARGETS.speedupVsOpaServer,
      });
    }
    if (throughput) {
      targets.push({
        target: `masking ≥ ${TARGETS.maskingMBps} MB/s per core`,
        reached: `${throughput.medianMBps.toFixed(1)} MB/s`,
        met: throughput.medianMBps >= TARGETS.maskingMBps,
      });
    }
    const flat = linear?.shapes[0];
    if (flat) {
      // CPU time of the one thread: on a shared machine, wall time measures the neighbours.
      targets.push({
        target: `1 MiB with ${flat.keys} keys (JSON) decides in < ${TARGETS.linearMs} ms of CPU`,
        reached: `${flat.cpuMs.toFixed(0)} ms CPU (${flat.wallMs.toFixed(0)} ms wall)`,
        met: flat.cpuMs < TARGETS.linearMs,
      });
      for (const r of linear!.shapes.slice(1)) {
        targets.push({
          target: `  1 MiB, ${r.name}`,
          reached: `${r.cpuMs.toFixed(0)} ms CPU (${r.wallMs.toFixed(0)} ms wall)`,
          met: r.cpuMs < TARGETS.linearMs,
        });
      }
    }
    if (detect) {
      const mine = detect.tools.find((t) => t.tool === "Interlock");
      const gl = detect.tools.find((t) => t.tool === "gitleaks");
      const pr = detect.tools.find((t) => t.tool.startsWith("Presidio"));
      if (mine?.tokens && gl?.tokens) {
        targets.push({
          target: "token recall ≥ gitleaks",
          reached: `${(mine.tokens.recall * 100).toFixed(0)}% vs ${(gl.tokens.recall * 100).toFixed(0)}%`,
          met: mine.tokens.recall >= gl.tokens.recall,
        });
      }
      if (mine?.piiOverall && pr?.piiOverall) {
        targets.push({
          target: "pattern PII recall ≥ Presidio",
          reached: `${(mine.piiOverall.recall * 100).toFixed(0)}% vs ${(pr.piiOverall.recall * 100).toFixed(0)}%`,
          met: mine.piiOverall.recall >= pr.piiOverall.recall,
        });
      }
      if (mine) {
        const worst = [
          ...(mine.tokens ? [["tokens", mine.tokens.precision] as const] : []),
          ...Object.entries(mine.pii ?? {}).map(([k, v]) => [k, v.precision] as const),
        ].sort((a, b) => a[1] - b[1])[0];
        if (worst) {
          targets.push({
            target: `precision ≥ ${TARGETS.precision} for every type`,
            reached: `lowest: ${worst[0]} ${worst[1].toFixed(2)}`,
            met: worst[1] >= TARGETS.precision,
          });
        }
      }
      if (detect.speed?.ratio !== undefined) {
        targets.push({
          target: `masking ≥ ${TARGETS.maskingVsGitleaks}× gitleaks (CPU per byte, same bytes)`,
          reached: `${detect.speed.ratio.toFixed(1)}×`,
          met: detect.speed.ratio >= TARGETS.maskingVsGitleaks,
        });
      }
    }
    if (ab) {
      targets.push({
        target: `2 KB decide+mask p50 no slower than ${ab.baseline} (same-run A/B)`,
        reached: `${ab.decideRatio.toFixed(2)}× the baseline's`,
        met: ab.decideRatio <= 1.05,
      });
    }
    for (const s of sizes) {
      targets.push({
        target: `audit --verify ≥ ${TARGETS.auditRequestsPerSecond}/s (${s.audit.requests} requests)`,
        reached: `${s.audit.requestsPerSecond.toFixed(0)}/s`,
        met: s.audit.requestsPerSecond >= TARGETS.auditRequestsPerSecond,
      });
    }
    const rssFit = powerFit(sizes.map((s) => ({ n: s.audit.requests, v: s.audit.maxRssKiB })));
    if (rssFit) {
      targets.push({
        target: "audit memory does not grow with history length",
        reached: sizes.map((s) => fmtBytes(s.audit.maxRssKiB * 1024)).join(" → "),
        met: rssFit.exponent < 0.1,
      });
    }
    for (const run of startup ?? []) {
      const major = Number(run.version.slice(1).split(".")[0]);
      const of = (label: string) => run.cases.find((c) => c.label.startsWith(label));
      for (const [label, limit] of [
        ["interlock --help", TARGETS.helpOverNode],
        ["interlock evaluate", TARGETS.evaluateOverNode],
      ] as const) {
        const c = of(label);
        if (!c) continue;
        targets.push({
          target: `${label} ≤ ${limit}× node -e 0 (${run.version}${major >= 24 ? "" : ", reported beside Node 24's"})`,
          reached: `${c.ratioToNode.toFixed(2)}× (${(c.stats.p50 / 1000).toFixed(0)} ms)`,
          met: major >= 24 ? c.ratioToNode <= limit : null,
        });
      }
    }
    // A partial run keeps the other sections' targets (a target of this run replaces its own).
    const previousTargets = (previous.targets as typeof targets | undefined) ?? [];
    results.targets = [
      ...previousTargets.filter((p) => !targets.some((t) => t.target === p.target)),
      ...targets,
    ];
    if (targets.length > 0) {
      // (This run's targets only.)
      out.push(
        "",
        "Targets",
        table(
          ["target", "reached", "met"],
          targets.map((t) => [t.target, t.reached, t.met === null ? "?" : t.met ? "yes" : "NO"]),
        ),
      );
    }
    log("done");
    results.loadAverage = loads;
    results.seconds = (performance.now() - started) / 1000;
    results.sectionDates = {
      // Results written before sections had dates carry the date of that whole run.
      ...((previous.sectionDates as Record<string, string> | undefined) ??
        (typeof previous.date === "string"
          ? Object.fromEntries(
              ["decide", "opa", "lifecycle", "audit"].map((k) => [k, previous.date]),
            )
          : {})),
      ...Object.fromEntries([...only].map((x) => [x, date])),
    };
    // Formatted as the repository's prettier would (npm run lint checks every JSON file).
    let text = JSON.stringify(results, null, 2) + "\n";
    try {
      const options = (await resolveConfig(resultsFile)) ?? {};
      text = await format(text, { ...options, parser: "json" });
    } catch {
      // prettier is a dev dependency; without it the plain JSON is fine
    }
    writeFileSync(resultsFile, text);
    process.stdout.write(
      `\nInterlock benchmarks — ${JSON.stringify(results.machine)}\n\n${out.join("\n")}\n\n` +
        `Total ${(results.seconds as number).toFixed(0)} s; 1-minute load average during the run ` +
        `${Math.min(...loads.map((l) => l.load1)).toFixed(1)}–${Math.max(...loads.map((l) => l.load1)).toFixed(1)}, ` +
        `CPU steal up to ${Math.max(0, ...loads.map((l) => l.stealPercent ?? 0)).toFixed(1)}% ` +
        `on ${availableParallelism()} CPUs. Results: ${relative(process.cwd(), resultsFile)}\n`,
    );
  } finally {
    if (keep) log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
