/**
 * Decide and mask: per-decision latency for a 2 KB and a 100 KB request, where the time goes
 * (scan, policy evaluation, masking), and masking throughput over a mixed JSON corpus.
 */
import { decideAndMask, policyInputFor, type DecideContext } from "../src/decide.ts";
import { maskDocument, maskText } from "../src/masking/mask.ts";
import { scan } from "../src/masking/scan.ts";
import { defaultPoliciesDir } from "../src/policy/bundle.ts";
import { loadPolicyEngine, type PolicyEngine, type PolicyInput } from "../src/policy/engine.ts";
import { parseRequest } from "../src/request/parse.ts";
import type { Request } from "../src/request/schema.ts";
import { corpus, requestJson } from "./fixtures.ts";
import { timeInterleaved, timeSync, type LatencyStats, type LoopOptions } from "./stats.ts";

export const NOW = new Date("2026-11-24T10:00:00.000Z");
export const HMAC_KEY = new Uint8Array(32).fill(7);

export interface SizedRequest {
  readonly label: string;
  readonly json: string;
  readonly bytes: number;
  readonly request: Request;
  readonly input: PolicyInput;
  readonly findings: number;
}

/** The same input decideAndMask builds (src/decide.ts), for timing the policy alone. */
export function policyInput(request: Request, ctx: DecideContext): PolicyInput {
  return policyInputFor(request, ctx);
}

export async function loadEngine(): Promise<PolicyEngine> {
  const engine = await loadPolicyEngine(defaultPoliciesDir());
  if (engine.revision === "none") throw new Error("the default policy bundle did not load");
  return engine;
}

export function context(engine: PolicyEngine): DecideContext {
  return { engine, now: NOW, repo: "approvals", hmacKey: HMAC_KEY };
}

export function sizedRequests(ctx: DecideContext): SizedRequest[] {
  return [
    { label: "2 KB", target: 2 * 1024 },
    { label: "100 KB", target: 100 * 1024 },
  ].map(({ label, target }) => {
    const json = requestJson(target);
    const request = parseRequest(json, { source: `bench ${label}` });
    const input = policyInput(request, ctx);
    return {
      label,
      json,
      bytes: Buffer.byteLength(json),
      request,
      input,
      findings: input.findings.length,
    };
  });
}

/** Loop sizes: enough samples for a p99, bounded in time for the slow case. */
export function loopFor(bytes: number, budgetMs = 2500): LoopOptions {
  return bytes < 10_000
    ? { warmup: 2000, maxIterations: 20_000, minIterations: 2000, budgetMs }
    : { warmup: 40, maxIterations: 2000, minIterations: 200, budgetMs };
}

export interface DecideResult {
  readonly label: string;
  readonly bytes: number;
  readonly findings: number;
  readonly maskRules: number;
  readonly decision: { allow: boolean; risk: string; groups: string[] };
  readonly parseRequest: LatencyStats;
  readonly decideAndMask: LatencyStats;
  readonly scan: LatencyStats;
  readonly policy: LatencyStats;
  readonly mask: LatencyStats;
  /** decideAndMask's last step: maskText over the decision's texts and every path it reports. */
  readonly maskTexts: LatencyStats;
}

export function benchDecide(ctx: DecideContext, requests: readonly SizedRequest[]): DecideResult[] {
  return requests.map((r) => {
    const loop = loopFor(r.bytes);
    const raw = ctx.engine.decide(r.input);
    if (!raw.allow || raw.failed_closed) {
      throw new Error(`the ${r.label} request was denied: ${raw.deny.join("; ")}`);
    }
    const findings = scan(r.request);
    const parse = timeSync(() => parseRequest(r.json), {
      ...loop,
      maxIterations: Math.min(loop.maxIterations, 3000),
      budgetMs: 1500,
    });
    const masked = maskDocument(r.request, findings, raw.mask, { hmacKey: ctx.hmacKey });
    const t = timeInterleaved(
      {
        whole: () => decideAndMask(r.request, ctx),
        scan: () => scan(r.request),
        policy: () => ctx.engine.decide(r.input),
        mask: () => maskDocument(r.request, findings, raw.mask, { hmacKey: ctx.hmacKey }),
        maskTexts: () => [
          raw.deny.map(maskText),
          raw.why.map(maskText),
          raw.mask.map((m) => ({ ...m, path: maskText(m.path) })),
          findings.map((f) => ({ type: f.type, kind: f.kind, path: maskText(f.path), in: f.in })),
          masked.applied.map((m) => ({ ...m, path: maskText(m.path) })),
          masked.ignoredRules.map((x) => ({ ...x.rule, path: maskText(x.rule.path) })),
        ],
      },
      loop,
    );
    const {
      whole,
      scan: scanStats,
      policy,
      mask,
      maskTexts,
    } = t as Record<"whole" | "scan" | "policy" | "mask" | "maskTexts", LatencyStats>;
    return {
      label: r.label,
      bytes: r.bytes,
      findings: r.findings,
      maskRules: raw.mask.length,
      decision: {
        allow: raw.allow,
        risk: raw.risk,
        groups: raw.approvals.groups.map((g) => g.name),
      },
      parseRequest: parse,
      decideAndMask: whole,
      scan: scanStats,
      policy,
      mask,
      maskTexts,
    };
  });
}

export interface ThroughputResult {
  readonly documents: number;
  readonly bytes: number;
  readonly strings: number;
  readonly planted: number;
  readonly findings: number;
  readonly findingsByType: Record<string, number>;
  readonly passes: number;
  /** MB/s (10^6 bytes per second) of each timed pass, in order. */
  readonly passMBps: number[];
  readonly medianMBps: number;
  readonly bestMBps: number;
  /** Share of the time spent in scan (the rest is maskDocument). */
  readonly scanShare: number;
}

/** scan + maskDocument over ~8 MB of mixed JSON, single thread, whole passes timed. */
export function benchThroughput(targetBytes = 8 * 1000 * 1000, passes = 5): ThroughputResult {
  const c = corpus(targetBytes);
  const findingsByType: Record<string, number> = {};
  let findings = 0;
  for (const d of c.docs) {
    for (const f of scan(d.value)) {
      findings++;
      findingsByType[f.type] = (findingsByType[f.type] ?? 0) + 1;
    }
  }
  const opts = { hmacKey: HMAC_KEY };
  const pass = (): { ns: number; scanNs: number } => {
    let ns = 0;
    let scanNs = 0;
    for (const d of c.docs) {
      const t0 = process.hrtime.bigint();
      const f = scan(d.value);
      const t1 = process.hrtime.bigint();
      maskDocument(d.value, f, [], opts);
      const t2 = process.hrtime.bigint();
      ns += Number(t2 - t0);
      scanNs += Number(t1 - t0);
    }
    return { ns, scanNs };
  };
  pass(); // warm-up
  const results = Array.from({ length: passes }, pass);
  const mbps = results.map((r) => c.bytes / 1e6 / (r.ns / 1e9));
  const sorted = [...mbps].sort((a, b) => a - b);
  const totalNs = results.reduce((a, r) => a + r.ns, 0);
  const totalScan = results.reduce((a, r) => a + r.scanNs, 0);
  return {
    documents: c.docs.length,
    bytes: c.bytes,
    strings: c.strings,
    planted: c.planted,
    findings,
    findingsByType,
    passes,
    passMBps: mbps,
    medianMBps: sorted[Math.floor(sorted.length / 2)]!,
    bestMBps: sorted[sorted.length - 1]!,
    scanShare: totalScan / totalNs,
  };
}
