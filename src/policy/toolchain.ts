import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { InterlockError } from "../errors.ts";

/** Interlock's name on the npm registry (the command it installs is `interlock`). */
export const PACKAGE_NAME = "interlock-approvals";

/**
 * The root of the Interlock package (where package.json, policies/ and .tools/ live): the
 * checkout, or the installed package (node_modules/interlock-approvals), whose policies/ ship
 * with it.
 */
export function packageRoot(): string {
  // Walk up to Interlock's own package.json: from src/policy/ in a checkout, from lib/ when
  // built, and from dist/ when bundled for the Action.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === PACKAGE_NAME)
          return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return join(dirname(fileURLToPath(import.meta.url)), "..", "..");
    dir = up;
  }
}

/** The OPA release policies are built with; pinned in package.json (`config.opaVersion`). */
export function pinnedOpaVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
    config: { opaVersion: string };
  };
  return pkg.config.opaVersion;
}

/**
 * Finds the `opa` binary: $INTERLOCK_OPA, then the project-local .tools/bin/opa (made by
 * `npm run tools`), then `opa` on PATH. Only building and testing Rego need it; evaluation
 * runs the compiled Wasm in-process.
 */
export function findOpa(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [env.INTERLOCK_OPA, join(packageRoot(), ".tools", "bin", "opa"), "opa"];
  for (const c of candidates) {
    if (c === undefined || c === "") continue;
    if (c !== "opa" && !existsSync(c)) continue;
    try {
      execFileSync()(c, ["version"], { stdio: "ignore" });
      return c;
    } catch {
      continue;
    }
  }
  throw new InterlockError("opa.not_found", "the opa command was not found", {
    hint:
      `Run 'npm run tools' in the Interlock checkout (it builds OPA ${pinnedOpaVersion()} with Go), ` +
      `put opa on PATH, or set INTERLOCK_OPA to its path.`,
  });
}

export function opaVersion(opa: string): string {
  const out = execFileSync()(opa, ["version"], { encoding: "utf8" });
  return `v${(/^Version:\s*v?(\S+)/m.exec(out)?.[1] ?? "unknown").replace(/^v/, "")}`;
}

/**
 * node:child_process at first use: this module is imported by every command that loads the
 * policy, most of which never start opa (child_process brings Node's sockets with it).
 */
function execFileSync() {
  return process.getBuiltinModule("node:child_process").execFileSync;
}
