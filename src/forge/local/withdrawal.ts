import { parse as parseYaml, stringify } from "yaml";
import type { IdentityDirectory } from "../../identity/directory.ts";
import { commitSigner } from "./signed-request.ts";

/** A verified withdrawal: the commit that recorded it, who signed it and when. */
export interface Withdrawal {
  readonly commit: string;
  readonly by: string;
  readonly at: Date;
}

/**
 * The file a withdrawal adds on the default branch, withdrawals/<id>.yaml (what it says is
 * covered by the signature on the commit that adds it).
 */
export function withdrawalFile(p: { id: string; by: string; at: Date; reason?: string }): string {
  return stringify({
    version: 1,
    request: p.id,
    withdrawn_by: p.by,
    withdrawn_at: p.at.toISOString(),
    ...(p.reason ? { reason: p.reason } : {}),
  });
}

/**
 * Whether one commit that added withdrawals/<id>.yaml is a withdrawal of request `id` by
 * `filer` (the configured principal whose key signed the filed request): the commit carries an
 * SSH signature (namespace "git") by `filer`'s configured key, and the file names the request.
 * Anything else is no withdrawal; the reason says why, so it can be reported and ignored.
 * Pure; never throws.
 */
export function verifyWithdrawalCommit(p: {
  readonly id: string;
  readonly commit: { readonly oid: string; readonly raw: Buffer; readonly committedAt: Date };
  readonly content: Buffer | undefined;
  readonly filer: string | undefined;
  readonly directory: IdentityDirectory;
}): { verified: true; withdrawal: Withdrawal } | { verified: false; reason: string } {
  const at = p.commit.oid.slice(0, 7);
  if (p.filer === undefined) {
    return {
      verified: false,
      reason: `withdrawal ${at} ignored: the request's filing is not signed by a configured key, so no one can withdraw it`,
    };
  }
  const signer = commitSigner(p.commit.raw, p.directory);
  if (signer !== p.filer) {
    return {
      verified: false,
      reason: `withdrawal ${at} ignored: ${signer === undefined ? "it is not signed by a configured key" : `it is signed by ${signer}`}, not by ${p.filer}, who filed the request`,
    };
  }
  let names: unknown;
  try {
    names = (parseYaml(p.content?.toString("utf8") ?? "") as { request?: unknown } | null)?.request;
  } catch {
    names = undefined;
  }
  if (names !== p.id) {
    return {
      verified: false,
      reason: `withdrawal ${at} ignored: its file does not name request ${p.id}`,
    };
  }
  return {
    verified: true,
    withdrawal: { commit: p.commit.oid, by: signer, at: p.commit.committedAt },
  };
}
