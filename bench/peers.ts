/**
 * The detection peers, installed by the benchmark itself when missing, in a cache outside the
 * repository (BENCH_CACHE, default ~/.cache/interlock-bench): a Python virtual environment
 * with Faker (the corpus), detect-secrets and presidio-analyzer, and gitleaks built with
 * `go install`. Versions are pinned here. A peer that cannot be installed is reported, and the
 * benchmark goes on without it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const PEER_VERSIONS = {
  gitleaks: "v8.30.1",
  faker: "40.63.0",
  detectSecrets: "1.5.0",
  presidioAnalyzer: "2.2.366",
} as const;

export interface Peers {
  readonly cache: string;
  /** Python of the virtual environment, if it has Faker. */
  readonly python: string | undefined;
  readonly detectSecrets: string | undefined;
  readonly presidio: boolean;
  readonly gitleaks: string | undefined;
  /** What could not be installed, and why. */
  readonly missing: Record<string, string>;
  readonly versions: Record<string, string>;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}`, error: r.error };
}

function lastLine(s: string): string {
  return (
    s
      .trim()
      .split("\n")
      .filter((l) => l.trim() !== "")
      .pop() ?? ""
  ).slice(0, 300);
}

export function ensurePeers(log: (msg: string) => void): Peers {
  const cache = process.env.BENCH_CACHE ?? join(homedir(), ".cache", "interlock-bench");
  mkdirSync(cache, { recursive: true });
  const missing: Record<string, string> = {};
  const versions: Record<string, string> = {};

  // Python: one virtual environment for Faker, detect-secrets and Presidio.
  const venv = join(cache, "venv");
  const py = join(venv, "bin", "python");
  let python: string | undefined;
  let detectSecrets: string | undefined;
  let presidio = false;
  if (!existsSync(py)) {
    log(`peers: creating a Python virtual environment in ${venv}…`);
    const r = run("python3", ["-m", "venv", venv]);
    if (!r.ok) missing.python = `python3 -m venv failed: ${lastLine(r.out || String(r.error))}`;
  }
  if (existsSync(py)) {
    const want = {
      faker: `faker==${PEER_VERSIONS.faker}`,
      "detect-secrets": `detect-secrets==${PEER_VERSIONS.detectSecrets}`,
      "presidio-analyzer": `presidio-analyzer==${PEER_VERSIONS.presidioAnalyzer}`,
    };
    for (const [name, spec] of Object.entries(want)) {
      const have = run(py, ["-m", "pip", "show", name]);
      const version = /^Version: (.+)$/m.exec(have.out)?.[1];
      if (have.ok && version !== undefined && spec.endsWith(`==${version}`)) {
        versions[name] = version;
        continue;
      }
      log(`peers: pip install ${spec} (into ${venv})…`);
      const r = run(py, ["-m", "pip", "install", "-q", "--disable-pip-version-check", spec]);
      if (r.ok) versions[name] = spec.split("==")[1]!;
      else missing[name] = `pip install ${spec} failed: ${lastLine(r.out)}`;
    }
    if (versions.faker) python = py;
    if (versions["detect-secrets"]) detectSecrets = join(venv, "bin", "detect-secrets");
    presidio = versions["presidio-analyzer"] !== undefined;
  }

  // gitleaks: built from source with the Go toolchain, into the cache.
  const bin = join(cache, "bin");
  const gitleaksPath = join(bin, "gitleaks");
  let gitleaks: string | undefined;
  // `go install` leaves no version in the binary: a marker file records which one was built.
  const marker = join(bin, "gitleaks.version");
  if (
    existsSync(gitleaksPath) &&
    existsSync(marker) &&
    readFileSync(marker, "utf8").trim() === PEER_VERSIONS.gitleaks
  ) {
    gitleaks = gitleaksPath;
  } else {
    log(`peers: go install github.com/zricethezav/gitleaks/v8@${PEER_VERSIONS.gitleaks}…`);
    const r = run(
      "go",
      ["install", `github.com/zricethezav/gitleaks/v8@${PEER_VERSIONS.gitleaks}`],
      {
        ...process.env,
        GOBIN: bin,
      },
    );
    if (r.ok && existsSync(gitleaksPath)) {
      gitleaks = gitleaksPath;
      writeFileSync(marker, PEER_VERSIONS.gitleaks + "\n");
    } else missing.gitleaks = `go install failed: ${lastLine(r.out || String(r.error))}`;
  }
  if (gitleaks) versions.gitleaks = PEER_VERSIONS.gitleaks;
  return { cache, python, detectSecrets, presidio, gitleaks, missing, versions };
}
