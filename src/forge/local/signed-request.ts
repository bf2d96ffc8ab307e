import type { IdentityDirectory } from "../../identity/directory.ts";
import { bindRequester, type RequesterFields } from "../../identity/requester.ts";
import type { RequestAuthentication } from "../../gate/snapshot.ts";
import type { SshSigningKey } from "./sshsig.ts";
import { verifySshSignature, type AllowedSigner } from "./sshsig.ts";

/**
 * A request on the local forge is a commit signed by whoever files it, exactly as git signs a
 * commit with gpg.format=ssh: an SSHSIG (namespace "git") over the commit object without its
 * `gpgsig` header, stored in that header. So `git verify-commit` checks it too.
 *
 * Why a signed commit rather than a signed tag on the proposal head: the commit is the proposal
 * (its tree holds the request file, its parent pins the base, its committer time is the filing
 * time), so the signature cannot be separated from what it covers, nor deleted on its own, and
 * nothing needs a second ref that a writer could remove or point elsewhere.
 */

/** Inserts the signature header into an unsigned commit object, as git's add_header_signature. */
export function signCommitObject(unsigned: string, key: SshSigningKey): string {
  const signature = key.sign(unsigned, "git");
  const end = unsigned.indexOf("\n\n");
  const headerEnd = end < 0 ? unsigned.length : end;
  const lines = signature.replace(/\n$/, "").split("\n");
  const header = `gpgsig ${lines.join("\n ")}`;
  return `${unsigned.slice(0, headerEnd)}\n${header}${unsigned.slice(headerEnd)}`;
}

/**
 * Splits a raw commit object into the payload git signs (every header but gpgsig/gpgsig-sha256,
 * with their continuation lines) and the signature; undefined when it has no SSH signature.
 */
export function splitSignedCommit(
  raw: string | Uint8Array,
): { payload: Buffer; signature: string } | undefined {
  const text = (typeof raw === "string" ? Buffer.from(raw, "utf8") : Buffer.from(raw)).toString(
    "latin1",
  );
  const end = text.indexOf("\n\n");
  const headerText = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? "" : text.slice(end);
  const kept: string[] = [];
  let signature: string[] | undefined;
  let inSig = false;
  for (const line of headerText.split("\n")) {
    if (inSig && line.startsWith(" ")) {
      signature!.push(line.slice(1));
      continue;
    }
    inSig = false;
    if (line.startsWith("gpgsig ") || line.startsWith("gpgsig-sha256 ")) {
      if (signature !== undefined) return undefined; // two signatures: refuse to choose
      signature = [line.slice(line.indexOf(" ") + 1)];
      inSig = true;
      continue;
    }
    kept.push(line);
  }
  if (signature === undefined) return undefined;
  return {
    payload: Buffer.from(kept.join("\n") + body, "latin1"),
    signature: Buffer.from(signature.join("\n") + "\n", "latin1").toString("utf8"),
  };
}

/** Every configured principal's key, allowed for git's namespace only. */
export function requestSigners(dir: IdentityDirectory): AllowedSigner[] {
  return [...dir.principals.values()]
    .filter((p) => p.signingKey !== undefined)
    .map((p) => ({ principal: p.id, publicKey: p.signingKey!, namespaces: ["git"] }));
}

/**
 * Who filed a request: the configured principal whose key signed the proposal's commit, bound
 * to the request's requester fields (see bindRequester). Never throws.
 */
export function verifyRequestCommit(
  raw: string | Uint8Array,
  declared: RequesterFields,
  dir: IdentityDirectory,
): RequestAuthentication & { requester?: RequesterFields } {
  const signed = splitSignedCommit(raw);
  if (signed === undefined) {
    return { verified: false, reason: "the proposal's commit is not signed" };
  }
  const signers = requestSigners(dir);
  let firstReason: string | undefined;
  for (const s of signers) {
    const r = verifySshSignature(signed.signature, signed.payload, "git", s.principal, signers);
    if (!r.ok) {
      if (firstReason === undefined || s.principal === declared.id) firstReason = r.reason;
      continue;
    }
    const bound = bindRequester(dir, s.principal, declared);
    if (!bound.ok) return { verified: false, reason: bound.reason };
    return {
      verified: true,
      signer: s.principal,
      requester: bound.requester,
      detail: `filed and signed by ${s.principal} (key ${r.fingerprint})`,
    };
  }
  const why = firstReason ?? "no person or agent in the configuration has a signing key";
  return {
    verified: false,
    reason: `the proposal's signature is by no configured person or agent (${why})`,
  };
}

/**
 * The configured principal whose key signed a commit (SSH, namespace "git"), or undefined when
 * it is unsigned or signed by no configured key. Never throws.
 */
export function commitSigner(raw: string | Uint8Array, dir: IdentityDirectory): string | undefined {
  const signed = splitSignedCommit(raw);
  if (signed === undefined) return undefined;
  const signers = requestSigners(dir);
  for (const s of signers) {
    if (verifySshSignature(signed.signature, signed.payload, "git", s.principal, signers).ok) {
      return s.principal;
    }
  }
  return undefined;
}
