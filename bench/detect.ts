/**
 * Detection quality side by side: Interlock's detectors (whatever src/masking does today),
 * gitleaks, detect-secrets and Presidio's pattern recognizers on one corpus generated at bench
 * time from sources we did not write (bench/corpus/generate.py: Faker and provider-documented
 * token shapes). Scored per line: every positive line holds exactly one planted value.
 *
 * - Tokens (secrets): a token line is found when the tool reports any secret on it; a secret
 *   reported on any other line is a false positive.
 * - Pattern PII: a PII line is found when the tool reports that type on it; a report of a type
 *   on a line of another type (or a negative line) is a false positive for that type.
 *
 * Also: CPU per byte of gitleaks (the whole process, it cannot run in-process) against
 * Interlock's scan + maskDocument in-process, on the same bytes.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { maskDocument } from "../src/masking/mask.ts";
import { scan } from "../src/masking/scan.ts";
import type { Peers } from "./peers.ts";

const here = dirname(fileURLToPath(import.meta.url));

export const PII_TYPES = [
  "email",
  "phone",
  "payment_card",
  "iban",
  "us_ssn",
  "uk_nino",
  "ipv4",
  "ipv6",
] as const;
type PiiType = (typeof PII_TYPES)[number];

interface Label {
  readonly type: string;
  readonly category: "token" | "pii" | "negative";
}

/** What one tool reported on one line: secrets (any) and PII types (mapped to ours). */
interface LineReport {
  secret: boolean;
  pii: Set<PiiType | "ip">;
}

export interface ToolScore {
  readonly tool: string;
  readonly tokens?: {
    recall: number;
    precision: number;
    found: number;
    planted: number;
    falsePositives: number;
  };
  /** Recall per token type (share of lines of that type found). */
  readonly tokenRecallByType?: Record<string, number>;
  readonly pii?: Record<
    string,
    { recall: number; precision: number; tp: number; fp: number; planted: number }
  >;
  readonly piiOverall?: { recall: number; precision: number };
  readonly cpuSeconds?: number;
  readonly note?: string;
}

export interface DetectResult {
  readonly corpus: {
    lines: number;
    bytes: number;
    tokens: number;
    pii: number;
    negatives: number;
    command: string;
  };
  readonly tools: ToolScore[];
  readonly speed?: {
    bytes: number;
    interlockMBpsPerCore: number;
    interlockCpuSeconds: number;
    gitleaksMBpsPerCore?: number;
    gitleaksCpuSeconds?: number;
    ratio?: number;
  };
  readonly missing: Record<string, string>;
}

/** Interlock's type names today, and names the generated detectors may use, to ours. */
function mapInterlockPii(type: string): PiiType | "ip" | undefined {
  const t = type.toLowerCase();
  if (t.includes("email")) return "email";
  if (t.includes("phone")) return "phone";
  if (t.includes("card")) return "payment_card";
  if (t.includes("iban")) return "iban";
  if (t.includes("ssn")) return "us_ssn";
  if (t.includes("nino") || t.includes("national_insurance")) return "uk_nino";
  if (t.includes("ipv6")) return "ipv6";
  if (t.includes("ipv4")) return "ipv4";
  if (t.includes("ip")) return "ip";
  return undefined;
}

function mapPresidio(entity: string): PiiType | "ip" | undefined {
  return (
    (
      {
        EMAIL_ADDRESS: "email",
        PHONE_NUMBER: "phone",
        CREDIT_CARD: "payment_card",
        IBAN_CODE: "iban",
        US_SSN: "us_ssn",
        UK_NINO: "uk_nino",
        IP_ADDRESS: "ip",
      } as const
    )[entity] ?? undefined
  );
}

/** "ip" (a tool that does not tell v4 from v6) matches both IP types. */
function reports(r: LineReport | undefined, t: PiiType): boolean {
  if (!r) return false;
  return r.pii.has(t) || ((t === "ipv4" || t === "ipv6") && r.pii.has("ip"));
}

function score(
  tool: string,
  labels: readonly Label[],
  byLine: Map<number, LineReport>,
  what: { tokens: boolean; pii: boolean },
  extra: Partial<ToolScore> = {},
): ToolScore {
  const out: Record<string, unknown> = { tool, ...extra };
  if (what.tokens) {
    let planted = 0;
    let found = 0;
    let fp = 0;
    const perType: Record<string, { n: number; f: number }> = {};
    labels.forEach((l, i) => {
      const r = byLine.get(i + 1);
      if (l.category === "token") {
        planted++;
        const s = (perType[l.type] ??= { n: 0, f: 0 });
        s.n++;
        if (r?.secret) {
          found++;
          s.f++;
        }
      } else if (r?.secret) fp++;
    });
    out.tokens = {
      recall: found / planted,
      precision: found + fp === 0 ? 1 : found / (found + fp),
      found,
      planted,
      falsePositives: fp,
    };
    out.tokenRecallByType = Object.fromEntries(
      Object.entries(perType).map(([k, v]) => [k, v.f / v.n]),
    );
  }
  if (what.pii) {
    const pii: Record<
      string,
      { recall: number; precision: number; tp: number; fp: number; planted: number }
    > = {};
    let allTp = 0;
    let allFp = 0;
    let allPlanted = 0;
    for (const t of PII_TYPES) {
      let planted = 0;
      let tp = 0;
      let fp = 0;
      labels.forEach((l, i) => {
        const r = byLine.get(i + 1);
        const isT = l.category === "pii" && l.type === t;
        if (isT) planted++;
        if (reports(r, t)) {
          if (isT) tp++;
          else if (
            // Token lines may hold PII-like parts for real (the e-mail in a service account
            // key, user@host in a URL): only PII lines of another type and negatives count.
            l.category !== "token" &&
            // A tool that says only "ip" is not wrong about the version.
            !(
              l.category === "pii" &&
              (l.type === "ipv4" || l.type === "ipv6") &&
              (t === "ipv4" || t === "ipv6") &&
              !r!.pii.has(t)
            )
          )
            fp++;
        }
      });
      pii[t] = {
        recall: tp / planted,
        precision: tp + fp === 0 ? 1 : tp / (tp + fp),
        tp,
        fp,
        planted,
      };
      allTp += tp;
      allFp += fp;
      allPlanted += planted;
    }
    out.pii = pii;
    out.piiOverall = {
      recall: allTp / allPlanted,
      precision: allTp + allFp === 0 ? 1 : allTp / (allTp + allFp),
    };
  }
  return out as unknown as ToolScore;
}

function lineReports(): Map<number, LineReport> {
  return new Map();
}
function at(m: Map<number, LineReport>, line: number): LineReport {
  let r = m.get(line);
  if (!r) m.set(line, (r = { secret: false, pii: new Set() }));
  return r;
}

function cpuOf(cmd: string, args: string[], cwd?: string) {
  // GNU time gives the child's whole-process CPU (user + system).
  const r = spawnSync("/usr/bin/time", ["-f", "%U %S", cmd, ...args], {
    encoding: "utf8",
    cwd,
    maxBuffer: 256 * 1024 * 1024,
  });
  const m = /([0-9.]+) ([0-9.]+)\s*$/.exec(r.stderr ?? "");
  return {
    status: r.status,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    cpuSeconds: m ? Number(m[1]) + Number(m[2]) : Number.NaN,
  };
}

export function benchDetect(
  scratch: string,
  peers: Peers,
  log: (m: string) => void,
  seed = 1,
): DetectResult | { skipped: string } {
  if (!peers.python)
    return {
      skipped: `no corpus: Faker is not installed (${peers.missing.faker ?? peers.missing.python ?? "?"})`,
    };
  const dir = join(scratch, "detect");
  mkdirSync(dir, { recursive: true });
  const corpusFile = join(dir, "corpus.txt");
  const labelsFile = join(dir, "labels.jsonl");
  const gen = [
    join(here, "corpus", "generate.py"),
    "--seed",
    String(seed),
    "--corpus",
    corpusFile,
    "--labels",
    labelsFile,
  ];
  log("detect: generating the corpus (Faker, provider token shapes)…");
  const g = spawnSync(peers.python, gen, { encoding: "utf8" });
  if (g.status !== 0) return { skipped: `corpus generation failed: ${g.stderr.slice(-500)}` };
  const text = readFileSync(corpusFile, "utf8");
  const lines = text.split("\n").filter((l) => l !== "");
  const labels = readFileSync(labelsFile, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Label);
  const tools: ToolScore[] = [];

  // Interlock: scan each line's JSON document (keys give context, as in a request).
  log("detect: Interlock…");
  const mine = lineReports();
  const docs = lines.map((l) => JSON.parse(l) as unknown);
  const c0 = process.cpuUsage();
  docs.forEach((d, i) => {
    for (const f of scan(d)) {
      const r = at(mine, i + 1);
      if (f.kind === "secret") r.secret = true;
      else {
        const t = mapInterlockPii(f.type);
        if (t) r.pii.add(t);
      }
    }
  });
  const c1 = process.cpuUsage(c0);
  tools.push(
    score(
      "Interlock",
      labels,
      mine,
      { tokens: true, pii: true },
      {
        cpuSeconds: (c1.user + c1.system) / 1e6,
        note: "scan() of each line's JSON document, in-process (first run, JIT warm-up included)",
      },
    ),
  );

  // gitleaks: the whole file, default rules.
  let gitleaksCpu: number | undefined;
  if (peers.gitleaks) {
    log("detect: gitleaks…");
    const report = join(dir, "gitleaks.json");
    const r = cpuOf(peers.gitleaks, [
      "dir",
      corpusFile,
      "--report-format",
      "json",
      "--report-path",
      report,
      "--no-banner",
      "--exit-code",
      "0",
      "--redact",
      "--log-level",
      "error",
    ]);
    if (r.status === 0) {
      const found = lineReports();
      for (const f of JSON.parse(readFileSync(report, "utf8")) as {
        StartLine: number;
        EndLine: number;
      }[]) {
        for (let l = f.StartLine; l <= f.EndLine; l++) at(found, l).secret = true;
      }
      tools.push(
        score(
          "gitleaks",
          labels,
          found,
          { tokens: true, pii: false },
          { cpuSeconds: r.cpuSeconds },
        ),
      );
    } else tools.push({ tool: "gitleaks", note: `failed: ${r.stderr.slice(-300)}` });
  }

  // detect-secrets: default plugins and filters.
  if (peers.detectSecrets) {
    log("detect: detect-secrets…");
    const r = cpuOf(peers.detectSecrets, ["scan", "--all-files", "corpus.txt"], dir);
    if (r.status === 0) {
      const found = lineReports();
      const out = JSON.parse(r.stdout) as { results: Record<string, { line_number: number }[]> };
      for (const list of Object.values(out.results))
        for (const f of list) at(found, f.line_number).secret = true;
      tools.push(
        score(
          "detect-secrets",
          labels,
          found,
          { tokens: true, pii: false },
          { cpuSeconds: r.cpuSeconds },
        ),
      );
    } else tools.push({ tool: "detect-secrets", note: `failed: ${r.stderr.slice(-300)}` });
  }

  // Presidio: predefined pattern recognizers, nlp_artifacts=None (no spaCy model).
  if (peers.presidio) {
    log("detect: Presidio pattern recognizers…");
    const r = spawnSync(peers.python, [join(here, "corpus", "presidio_scan.py"), corpusFile], {
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.status === 0) {
      const found = lineReports();
      let cpu: number | undefined;
      let recognizers: string[] = [];
      for (const l of r.stdout.split("\n").filter(Boolean)) {
        const o = JSON.parse(l) as {
          line?: number;
          entities?: [string, number, number, number][];
          cpu_seconds?: number;
          recognizers?: string[];
        };
        if (o.recognizers) recognizers = o.recognizers;
        if (o.cpu_seconds !== undefined) cpu = o.cpu_seconds;
        if (o.line !== undefined) {
          for (const [type] of o.entities ?? []) {
            const t = mapPresidio(type);
            if (t) at(found, o.line).pii.add(t);
          }
        }
      }
      tools.push(
        score(
          "Presidio (pattern recognizers)",
          labels,
          found,
          { tokens: false, pii: true },
          {
            cpuSeconds: cpu,
            note: `recognizers: ${recognizers.join(", ")}; nlp_artifacts=None, no spaCy model`,
          },
        ),
      );
    } else tools.push({ tool: "Presidio", note: `failed: ${r.stderr.slice(-300)}` });
  }

  // Speed on the same bytes: the corpus repeated to ~2 MB (gitleaks takes ~5 s of CPU per MB
  // of this token-dense text on a 2-core machine).
  log("detect: CPU per byte, Interlock in-process vs the gitleaks process…");
  const copies = Math.max(1, Math.round((2 * 1000 * 1000) / Buffer.byteLength(text)));
  const bigFile = join(dir, "big.txt");
  writeFileSync(bigFile, text.repeat(copies));
  const bytes = Buffer.byteLength(text) * copies;
  const opts = { hmacKey: new Uint8Array(32).fill(7) };
  for (const d of docs.slice(0, 200)) maskDocument(d, scan(d), [], opts); // warm-up
  const before = process.cpuUsage();
  for (let c = 0; c < copies; c++) for (const d of docs) maskDocument(d, scan(d), [], opts);
  const used = process.cpuUsage(before);
  const interlockCpuSeconds = (used.user + used.system) / 1e6;
  let speed: DetectResult["speed"] = {
    bytes,
    interlockCpuSeconds,
    interlockMBpsPerCore: bytes / 1e6 / interlockCpuSeconds,
  };
  if (peers.gitleaks) {
    const r = cpuOf(peers.gitleaks, [
      "dir",
      bigFile,
      "--report-format",
      "json",
      "--report-path",
      join(dir, "big.json"),
      "--no-banner",
      "--exit-code",
      "0",
      "--redact",
      "--log-level",
      "error",
    ]);
    gitleaksCpu = r.cpuSeconds;
    speed = {
      ...speed,
      gitleaksCpuSeconds: gitleaksCpu,
      gitleaksMBpsPerCore: bytes / 1e6 / gitleaksCpu,
      ratio: gitleaksCpu / interlockCpuSeconds,
    };
  }
  return {
    corpus: {
      lines: lines.length,
      bytes: Buffer.byteLength(text),
      tokens: labels.filter((l) => l.category === "token").length,
      pii: labels.filter((l) => l.category === "pii").length,
      negatives: labels.filter((l) => l.category === "negative").length,
      command: `python bench/corpus/generate.py --seed ${seed}`,
    },
    tools,
    speed,
    missing: peers.missing,
  };
}
