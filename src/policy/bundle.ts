import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { sha256 } from "../request/canonical.ts";
import { packageRoot } from "./toolchain.ts";

/** The policy entrypoint every Interlock policy set defines (docs/policy.md). */
export const ENTRYPOINT = "interlock/decision";
/** Where a built bundle lives, relative to a policies/ directory. */
export const DIST_DIR = "dist";

/** Written next to the Wasm by `policy build`; lets a load notice stale or mixed-up files. */
export interface BundleManifest {
  readonly entrypoint: string;
  readonly opa_version: string;
  /** Digest of the Rego and data sources the bundle was built from (tests excluded). */
  readonly source_digest: string;
  readonly wasm_digest: string;
  readonly data_digest: string;
  /** The policy revision every decision carries: digest over the Wasm and the data. */
  readonly revision: string;
}

export interface BundleFiles {
  readonly wasm: Uint8Array;
  readonly dataJson: string;
  readonly manifest: BundleManifest;
}

/** The policies/ directory shipped with Interlock (the default policy set). */
export function defaultPoliciesDir(): string {
  return join(packageRoot(), "policies");
}

/** A repository's own policies/ if it has one, else the shipped defaults. */
export function policiesDirFor(repoDir: string | undefined): { dir: string; isDefault: boolean } {
  if (repoDir !== undefined) {
    const own = join(repoDir, "policies");
    if (existsSync(own)) return { dir: own, isDefault: false };
  }
  return { dir: defaultPoliciesDir(), isDefault: true };
}

export function revisionOf(wasm: Uint8Array, dataJson: string): string {
  return sha256(`${sha256(wasm)}\n${sha256(dataJson)}\n`);
}

/** Is this file part of what the bundle is built from? Rego (not tests) and data documents. */
export function isPolicySource(relPath: string): boolean {
  const parts = relPath.split("/");
  if (parts[0] === DIST_DIR) return false;
  const name = parts[parts.length - 1] ?? "";
  if (name.endsWith("_test.rego")) return false;
  return name.endsWith(".rego") || ["data.json", "data.yaml", "data.yml"].includes(name);
}

/** Digest over every policy source file under dir: path and content, in path order. */
export function sourceDigest(dir: string): string {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      const rel = relative(dir, full).split(sep).join("/");
      if (entry.isDirectory()) {
        if (rel !== DIST_DIR && !entry.name.startsWith(".")) walk(full);
      } else if (entry.isFile() && isPolicySource(rel)) {
        files.push(rel);
      }
    }
  };
  walk(dir);
  files.sort();
  const h = createHash("sha256");
  for (const f of files) h.update(`${f}\0${sha256(readFileSync(join(dir, f)))}\n`);
  return `sha256:${h.digest("hex")}`;
}

/** Reads dist/ of a policies directory. Throws (with a hint) when something is missing. */
export function readBundle(policiesDir: string): BundleFiles {
  const dist = join(policiesDir, DIST_DIR);
  const wasm = readFileSync(join(dist, "policy.wasm"));
  const dataJson = readFileSync(join(dist, "data.json"), "utf8");
  const manifest = JSON.parse(readFileSync(join(dist, "manifest.json"), "utf8")) as BundleManifest;
  return { wasm: new Uint8Array(wasm), dataJson, manifest };
}
