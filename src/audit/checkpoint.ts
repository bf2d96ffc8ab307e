import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { REQUEST_ID } from "../forge/refs.ts";
import { canonicalJson } from "../request/canonical.ts";
import { CHECKPOINT_SUBDIR } from "../settings/home.ts";

/** The auditor's signing key (Ed25519, PKCS#8 PEM) in the repository's directory of its home. */
export const AUDITOR_KEY_FILE = "auditor.key";

/** What a checkpoint vouches for: the default branch up to `tip` verified clean. */
export interface CheckpointBody {
  readonly version: 1;
  readonly root: string;
  readonly branch: string;
  readonly tip: string;
  readonly records: number;
  readonly at: string;
  /**
   * request id → the commits reachable from `tip` that added its withdrawal file, oldest first
   * (a commit id names all the history below it, so this list never changes for `tip`). The
   * next audit lists only the withdrawals added since, instead of walking the whole history.
   * Absent from checkpoints recorded before it existed: that audit walks the history for them.
   */
  readonly withdrawals?: Readonly<Record<string, readonly string[]>>;
}

const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

function withdrawalsWellFormed(w: unknown): boolean {
  if (w === undefined) return true;
  if (typeof w !== "object" || w === null || Array.isArray(w)) return false;
  return Object.entries(w).every(
    ([id, commits]) =>
      REQUEST_ID.test(id) &&
      Array.isArray(commits) &&
      commits.every((c) => typeof c === "string" && OID.test(c)),
  );
}

export type LoadedCheckpoint =
  | { readonly ok: true; readonly body: CheckpointBody }
  | { readonly ok: false; readonly problem: string }
  | undefined;

const checkpointFile = (repoHomeDir: string, branch: string) =>
  join(repoHomeDir, CHECKPOINT_SUBDIR, `${branch.replace(/[^A-Za-z0-9._-]/g, "_")}.json`);

function auditorKey(repoHomeDir: string, create: boolean): KeyObject | undefined {
  const file = join(repoHomeDir, AUDITOR_KEY_FILE);
  try {
    return createPrivateKey(readFileSync(file, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || !create) return undefined;
  }
  const { privateKey } = generateKeyPairSync("ed25519");
  mkdirSync(repoHomeDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
  return privateKey;
}

/**
 * The last checkpoint for `branch`, its signature checked with the auditor's own key. A
 * checkpoint that does not verify is a problem (someone with access to the home tampered).
 */
export function loadCheckpoint(repoHomeDir: string, branch: string): LoadedCheckpoint {
  let text: string;
  try {
    text = readFileSync(checkpointFile(repoHomeDir, branch), "utf8");
  } catch {
    return undefined;
  }
  const key = auditorKey(repoHomeDir, false);
  if (key === undefined)
    return { ok: false, problem: "a checkpoint exists but the auditor's key is missing" };
  try {
    const { body, signature } = JSON.parse(text) as { body: CheckpointBody; signature: string };
    const ok = verify(
      null,
      Buffer.from(canonicalJson(body)),
      createPublicKey(key),
      Buffer.from(signature, "base64"),
    );
    if (
      !ok ||
      body.version !== 1 ||
      body.branch !== branch ||
      !OID.test(body.tip) ||
      !withdrawalsWellFormed(body.withdrawals)
    ) {
      return {
        ok: false,
        problem: "the checkpoint's signature does not verify with the auditor's key",
      };
    }
    return { ok: true, body };
  } catch {
    return { ok: false, problem: "the checkpoint cannot be read" };
  }
}

/** Records a checkpoint signed by the auditor's key (created on first use). */
export function recordCheckpoint(repoHomeDir: string, body: CheckpointBody): string {
  const key = auditorKey(repoHomeDir, true)!;
  const signature = sign(null, Buffer.from(canonicalJson(body)), key).toString("base64");
  const file = checkpointFile(repoHomeDir, body.branch);
  mkdirSync(join(repoHomeDir, CHECKPOINT_SUBDIR), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.tmp`, JSON.stringify({ body, signature }, null, 2) + "\n", {
    mode: 0o600,
  });
  renameSync(`${file}.tmp`, file);
  return file;
}
