import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { InterlockError } from "../errors.ts";
import { policiesDirFor } from "../policy/bundle.ts";
import { loadPolicyEngine, type PolicyEngine } from "../policy/engine.ts";
import { MASK_KEY_FILE } from "../settings/home.ts";

export interface RepoContext {
  readonly repoDir: string;
  readonly repoName: string;
  readonly policiesDir: string;
  readonly usingDefaultPolicies: boolean;
  readonly engine: PolicyEngine;
  readonly hmacKey: Uint8Array;
  /** True when the repository has no key and hash tokens are only stable within this run. */
  readonly ephemeralKey: boolean;
}

/**
 * Loads what deciding needs from an approvals repository (or the defaults). The masking key is
 * read from the repository's directory in the Interlock home (`home`), never the repository.
 */
export async function loadRepoContext(
  repo: string | undefined,
  cwd: string,
  home?: string,
): Promise<RepoContext> {
  const repoDir = resolve(cwd, repo ?? ".");
  if (repo !== undefined && !existsSync(repoDir)) {
    throw new InterlockError("usage", `--repo ${repo}: no such directory`, {
      hint: "Point --repo at an approvals repository, or create one with 'interlock init'.",
    });
  }
  const { dir, isDefault } = policiesDirFor(repoDir);
  const engine = await loadPolicyEngine(dir);
  const keyFile = home === undefined ? undefined : join(home, MASK_KEY_FILE);
  let hmacKey: Uint8Array;
  let ephemeralKey = false;
  if (keyFile !== undefined && existsSync(keyFile)) {
    const hex = readFileSync(keyFile, "utf8").trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) {
      throw new InterlockError("config.invalid", `${keyFile} must hold 64 hex characters`, {
        hint: `Restore it from your secret store; a new key changes every hash token. To start afresh: openssl rand -hex 32 > ${keyFile}`,
      });
    }
    hmacKey = Buffer.from(hex, "hex");
  } else {
    hmacKey = randomBytes(32);
    ephemeralKey = true;
  }
  return {
    repoDir,
    repoName: basename(repoDir),
    policiesDir: dir,
    usingDefaultPolicies: isDefault,
    engine,
    hmacKey,
    ephemeralKey,
  };
}
