import { readFileSync } from "node:fs";
import { signingKeyFile, type LocalRepo } from "../cli/local.ts";
import { InterlockError } from "../errors.ts";
import { withdrawalNow } from "../evidence/evidence.ts";
import { ORIGINAL_REF_PREFIX, resultPath } from "../forge/refs.ts";
import type { LocalForge } from "../forge/local/local-forge.ts";
import { requestSigners } from "../forge/local/signed-request.ts";
import { parseSshPrivateKey, verifySshSignature } from "../forge/local/sshsig.ts";
import { withdrawalFile, type Withdrawal } from "../forge/local/withdrawal.ts";
import { directoryOf, resolvePrincipal } from "../identity/directory.ts";
import { maskText } from "../masking/mask.ts";
import { commitText } from "../presentation/escape.ts";

/**
 * The verified withdrawal of request `id` on the default branch now, and who filed it, by the
 * one rule (withdrawalNow in src/evidence).
 */
export async function currentWithdrawal(
  forge: LocalForge,
  id: string,
): Promise<{ withdrawal?: Withdrawal; filer?: string }> {
  const source = forge.evidenceSource();
  try {
    return await withdrawalNow(source.reader, id, `refs/heads/${forge.defaultBranch}`);
  } finally {
    source.close();
  }
}

/**
 * The requester withdraws its own request (local forge): a commit adding withdrawals/<id>.yaml
 * to the default branch, signed with the key that signed the request. One implementation for
 * `interlock withdraw`, the SDK and the MCP server. Withdrawing twice is the same as once.
 */
export async function withdrawRequest(
  local: LocalRepo,
  o: {
    id: string;
    as: string;
    keyFlag?: string | undefined;
    reason?: string | undefined;
    cwd: string;
    now: Date;
    /** Appended to the "no such request" hint (the CLI's --repo). */
    repoHint?: string;
  },
): Promise<{ withdrawal: Withdrawal; already: boolean }> {
  const { id } = o;
  const forge = local.forge;
  const dir = directoryOf(local.config);
  const who = resolvePrincipal(dir, o.as)?.id ?? o.as;
  const original = await forge.git.revParse(`${ORIGINAL_REF_PREFIX}${id}`);
  if (original === undefined) {
    throw new InterlockError("usage", `no filed request ${id} in this repository`, {
      hint: `See the requests with 'interlock list${o.repoHint ?? ""}'.`,
    });
  }
  const before = await currentWithdrawal(forge, id);
  // Only whoever filed it (the configured principal whose key signed the filing) withdraws it:
  // not the sponsor, not a reviewer, not a writer of the repository.
  if (before.filer !== who) {
    throw new InterlockError(
      "usage",
      `only the requester who filed ${id} (${before.filer ?? "an unverified signer"}) can withdraw it, not ${who}`,
      { hint: "A reviewer who disagrees rejects it instead: interlock reject <id> --as <you>." },
    );
  }
  if (await forge.readDefault(resultPath(id))) {
    throw new InterlockError("usage", `request ${id} was executed already; it cannot be withdrawn`);
  }
  const existing = before.withdrawal;
  if (existing === undefined) {
    const keyFile = signingKeyFile(local, who, o.keyFlag, o.cwd);
    const signingKey = parseSshPrivateKey(readFileSync(keyFile, "utf8"), keyFile);
    // Refuse before writing anything when the key is not the requester's configured key.
    const probe = `interlock withdrawal of ${id}`;
    const check = verifySshSignature(
      signingKey.sign(probe, "git"),
      probe,
      "git",
      who,
      requestSigners(dir),
    );
    if (!check.ok) {
      throw new InterlockError(
        "usage",
        `the key given is not ${who}'s configured signing key (${check.reason})`,
        { hint: `Sign with ${who}'s own key (--key <file>, or the key in your Interlock home).` },
      );
    }
    await forge.recordWithdrawal({
      id,
      by: who,
      content: withdrawalFile({
        id,
        by: who,
        at: o.now,
        ...(o.reason ? { reason: maskText(o.reason) } : {}),
      }),
      message: `Withdraw request ${id}\n\nWithdrawn by its requester ${commitText(who)}.`,
      signingKey,
      date: o.now,
    });
  }
  // Only a withdrawal the one rule verifies (signed by whoever filed it) counts.
  const w = (await currentWithdrawal(forge, id)).withdrawal;
  if (w === undefined) {
    throw new InterlockError(
      "usage",
      `the withdrawal of ${id} is not signed by its requester ${who}: the key given is not ${who}'s configured key`,
      { hint: `Sign with ${who}'s own key (--key <file>, or the key in your Interlock home).` },
    );
  }
  return { withdrawal: w, already: existing !== undefined };
}
