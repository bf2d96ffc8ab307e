import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { InterlockError } from "../errors.ts";
import { sha256 } from "../request/canonical.ts";
import { DIST_DIR, ENTRYPOINT, revisionOf, sourceDigest, type BundleManifest } from "./bundle.ts";
import { opaVersion, packageRoot } from "./toolchain.ts";

const run = promisify(execFile);

/** The builtins the Node host can run; `opa build` rejects any other at build time. */
export function capabilitiesPath(): string {
  return join(packageRoot(), "src", "policy", "capabilities.json");
}

export interface BuildOptions {
  readonly opa: string;
  /** Where to write policy.wasm, data.json and manifest.json; default <policiesDir>/dist. */
  readonly outDir?: string;
}

/**
 * Compiles the Rego in policiesDir to Wasm with the real `opa build -t wasm` and writes the
 * bundle. Each file is written to a temporary name and renamed into place, the manifest last;
 * a load checks the digests in the manifest, so an interrupted build is never half-trusted.
 */
export async function buildPolicies(
  policiesDir: string,
  opts: BuildOptions,
): Promise<BundleManifest> {
  const work = mkdtempSync(join(tmpdir(), "interlock-build-"));
  try {
    const tarball = join(work, "bundle.tar.gz");
    try {
      await run(
        opts.opa,
        [
          "build",
          "-t",
          "wasm",
          "-e",
          ENTRYPOINT,
          "--capabilities",
          capabilitiesPath(),
          "--ignore",
          "*_test.rego",
          "--ignore",
          DIST_DIR,
          "-o",
          tarball,
          ".",
        ],
        { cwd: policiesDir, maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (err) {
      throw new InterlockError("policy.build_failed", `opa build failed:\n${opaMessage(err)}`, {
        hint: "Fix the Rego named above. A builtin reported as undefined is one the Wasm host cannot run.",
      });
    }
    const extracted = join(work, "x");
    mkdirSync(extracted);
    await run("tar", ["-xzf", tarball, "-C", extracted]);
    const wasm = readFileSync(join(extracted, "policy.wasm"));
    const dataJson = readFileSync(join(extracted, "data.json"), "utf8");
    const manifest: BundleManifest = {
      entrypoint: ENTRYPOINT,
      opa_version: opaVersion(opts.opa),
      source_digest: sourceDigest(policiesDir),
      wasm_digest: sha256(wasm),
      data_digest: sha256(dataJson),
      revision: revisionOf(wasm, dataJson),
    };
    const out = opts.outDir ?? join(policiesDir, DIST_DIR);
    mkdirSync(out, { recursive: true });
    replaceFile(join(out, "policy.wasm"), wasm);
    replaceFile(join(out, "data.json"), dataJson);
    replaceFile(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface PolicyTestResult {
  readonly passed: boolean;
  readonly output: string;
}

/** Runs the Rego unit tests with `opa test` (verbose output is returned for display). */
export async function testPolicies(
  policiesDir: string,
  opts: { opa: string; json?: boolean },
): Promise<PolicyTestResult> {
  const args = ["test", "--ignore", DIST_DIR, ...(opts.json ? ["--format", "json"] : ["-v"]), "."];
  try {
    const { stdout } = await run(opts.opa, args, { cwd: policiesDir, maxBuffer: 64 * 1024 * 1024 });
    return { passed: true, output: stdout };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    if (typeof e.stdout === "string" && e.stdout.length > 0) {
      return { passed: false, output: e.stdout + (e.stderr ?? "") };
    }
    throw new InterlockError("policy.test_failed", `opa test could not run:\n${opaMessage(err)}`);
  }
}

function opaMessage(err: unknown): string {
  const e = err as { stderr?: string; stdout?: string; message?: string };
  return (e.stderr || e.stdout || e.message || String(err)).trim();
}

function replaceFile(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}
