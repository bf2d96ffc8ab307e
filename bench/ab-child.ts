/**
 * One side of the same-run A/B (bench/ab.ts): run inside a checkout of either revision (this
 * file is copied into the baseline's bench/), it imports that revision's src/ and measures
 * the 2 KB decide+mask p50 and scan + maskDocument throughput on the inputs it is given.
 * Self-contained on purpose: it uses nothing from bench/ that could differ between revisions.
 *
 *   tsx bench/ab-child.ts <inputs.json>   → one JSON line on stdout
 */
import { readFileSync } from "node:fs";
import { decideAndMask } from "../src/decide.ts";
import { maskDocument } from "../src/masking/mask.ts";
import { scan } from "../src/masking/scan.ts";
import { defaultPoliciesDir } from "../src/policy/bundle.ts";
import { loadPolicyEngine } from "../src/policy/engine.ts";
import { parseRequest } from "../src/request/parse.ts";

interface Inputs {
  readonly request2k: string;
  readonly docs: readonly unknown[];
  readonly docBytes: number;
  readonly decideIterations: number;
  readonly passes: number;
  /** Untimed passes first, so that the timed ones run optimised code (default 1). */
  readonly warmupPasses?: number;
}

const inputs = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Inputs;
const engine = await loadPolicyEngine(defaultPoliciesDir());
const ctx = {
  engine,
  now: new Date("2026-11-24T10:00:00.000Z"),
  repo: "approvals",
  hmacKey: new Uint8Array(32).fill(7),
};
const request = parseRequest(inputs.request2k);
for (let i = 0; i < 1000; i++) decideAndMask(request, ctx);
const samples: number[] = [];
for (let i = 0; i < inputs.decideIterations; i++) {
  const t0 = process.hrtime.bigint();
  decideAndMask(request, ctx);
  samples.push(Number(process.hrtime.bigint() - t0) / 1000);
}
samples.sort((a, b) => a - b);
const opts = { hmacKey: ctx.hmacKey };
for (let p = 0; p < (inputs.warmupPasses ?? 1); p++) {
  for (const d of inputs.docs) maskDocument(d, scan(d), [], opts); // warm-up
}
const mbps: number[] = [];
for (let p = 0; p < inputs.passes; p++) {
  const before = process.cpuUsage();
  for (const d of inputs.docs) maskDocument(d, scan(d), [], opts);
  const used = process.cpuUsage(before);
  mbps.push(inputs.docBytes / 1e6 / ((used.user + used.system) / 1e6));
}
process.stdout.write(
  JSON.stringify({ decideP50Us: samples[Math.floor(samples.length / 2)], maskMBpsPerCore: mbps }) +
    "\n",
);
