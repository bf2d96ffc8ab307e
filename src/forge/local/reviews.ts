import { readFileSync } from "node:fs";
import type { InterlockConfig } from "../../config/config.ts";
import { directoryOf, resolvePrincipal } from "../../identity/directory.ts";
import type { GateReview } from "../../gate/snapshot.ts";
import type { GitIdentity } from "./git.ts";
import { Git } from "./git.ts";
import {
  parseSshPrivateKey,
  splitSignedTag,
  verifySshSignature,
  type AllowedSigner,
} from "./sshsig.ts";

/** Review tags live under refs/tags/interlock/reviews/<request id>/. */
export const REVIEW_TAG_PREFIX = "interlock/reviews/";

export type LocalReviewState = "approved" | "changes_requested";

/** What a review tag says, parsed from the raw tag object. */
export interface ReviewTag {
  readonly target: string;
  readonly taggerName: string;
  readonly taggerEmail: string;
  readonly at: Date;
  readonly request: string;
  readonly state: string;
  readonly commit: string;
  /** What the reviewer wrote (--note), covered by the signature; undefined when nothing. */
  readonly note?: string;
  /**
   * The review tag objects of the same request that existed when the reviewer signed: the
   * signer vouches that they were there, so one that later goes missing was removed.
   */
  readonly seen: readonly string[];
}

/** The message of a review tag: small, line-based, and covered by the signature. */
export function reviewMessage(
  request: string,
  state: LocalReviewState,
  commit: string,
  note?: string,
  seen: readonly string[] = [],
): string {
  return [
    `interlock review: ${state}`,
    "",
    `request: ${request}`,
    `state: ${state}`,
    `commit: ${commit}`,
    ...[...seen].sort().map((oid) => `seen: ${oid}`),
    ...(note ? ["", note.replace(/-----BEGIN/g, "- ----BEGIN")] : []),
  ].join("\n");
}

export function parseReviewTag(raw: string): ReviewTag | undefined {
  const sep = raw.indexOf("\n\n");
  if (sep < 0) return undefined;
  const headers = raw.slice(0, sep).split("\n");
  const body = raw.slice(sep + 2);
  // The fields block: after the title line, up to the note (a note cannot add fields).
  const block = body.split("\n\n")[1] ?? "";
  const seen = [...block.matchAll(/^seen: ([0-9a-f]{40}|[0-9a-f]{64})$/gm)].map((m) => m[1]!);
  const header = (name: string) =>
    headers.find((h) => h.startsWith(`${name} `))?.slice(name.length + 1);
  const tagger = /^(.*) <([^>]*)> (\d+) [+-]\d{4}$/.exec(header("tagger") ?? "");
  const field = (name: string) => new RegExp(`^${name}: (\\S+)$`, "m").exec(body)?.[1];
  const target = header("object");
  const request = field("request");
  const state = field("state");
  const commit = field("commit");
  if (!tagger || !target || !request || !state || !commit) return undefined;
  if (state !== "approved" && state !== "changes_requested") return undefined;
  const signature = body.indexOf("-----BEGIN SSH SIGNATURE-----");
  const note = (signature < 0 ? body : body.slice(0, signature))
    .split("\n\n")
    .slice(2)
    .join("\n\n")
    .trim();
  return {
    ...(note ? { note } : {}),
    target,
    taggerName: tagger[1]!,
    taggerEmail: tagger[2]!,
    at: new Date(Number(tagger[3]) * 1000),
    request,
    state,
    commit,
    seen,
  };
}

/**
 * Records a review as an SSH-signed tag on the reviewed commit. Interlock writes the tag object
 * itself and signs it in-process (SSHSIG, namespace "git", as `git tag -s` with gpg.format=ssh
 * would), so no program the repository configures (gpg.ssh.program, hooks) runs and the key
 * never leaves this process; plain `git tag -v` and `ssh-keygen -Y verify` accept the result.
 * The tag name is unique per review; an existing tag of that name is never overwritten.
 */
export async function signReviewTag(
  git: Git,
  opts: {
    name: string;
    target: string;
    message: string;
    tagger: GitIdentity;
    keyFile: string;
    date: Date;
  },
): Promise<void> {
  const key = parseSshPrivateKey(readFileSync(opts.keyFile, "utf8"), opts.keyFile);
  const payload = reviewTagPayload(opts);
  const tag = (await git.raw(["mktag"], undefined, payload + key.sign(payload, "git"))).trim();
  if (!(await git.compareAndSwap(`refs/tags/${opts.name}`, tag, undefined))) {
    throw new Error(`the tag ${opts.name} exists already`);
  }
}

/** The tag object up to its signature, byte for byte what `git tag -s -m` would sign. */
export function reviewTagPayload(opts: {
  name: string;
  target: string;
  message: string;
  tagger: GitIdentity;
  date: Date;
}): string {
  for (const [what, value] of [
    ["tagger name", opts.tagger.name],
    ["tagger e-mail", opts.tagger.email],
    ["tag name", opts.name],
  ] as const) {
    if (/[<>\0\n]/.test(value))
      throw new Error(`the ${what} ${JSON.stringify(value)} cannot be written`);
  }
  const seconds = Math.floor(opts.date.getTime() / 1000);
  return (
    `object ${opts.target}\ntype commit\ntag ${opts.name}\n` +
    `tagger ${opts.tagger.name} <${opts.tagger.email}> ${seconds} +0000\n\n` +
    cleanMessage(opts.message)
  );
}

/**
 * git's message clean-up (stripspace) without removing `#` lines: trailing white space goes,
 * runs of blank lines become one, no blank lines at either end, and it ends with a line break.
 */
function cleanMessage(message: string): string {
  const lines = message.split("\n").map((l) => l.replace(/\s+$/, ""));
  const out: string[] = [];
  for (const line of lines) {
    if (line === "" && (out.length === 0 || out[out.length - 1] === "")) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}

/**
 * A review tag as the gate sees it: who (the configured person whose e-mail the tagger
 * claims), on which commit, and whether the signature holds for that person's key. A tag
 * that is not a review of `requestId` gives undefined.
 */
export function reviewFromTag(
  raw: string | Buffer,
  requestId: string,
  config: InterlockConfig,
  signers: readonly AllowedSigner[],
): GateReview | undefined {
  const text = typeof raw === "string" ? raw : raw.toString("utf8");
  const tag = parseReviewTag(text);
  if (tag === undefined || tag.request !== requestId) return undefined;
  const principal = resolvePrincipal(directoryOf(config), tag.taggerEmail);
  const person = principal?.kind === "person" ? principal.id : undefined;
  const info = person ? config.people[person] : undefined;
  const signed = splitSignedTag(raw);
  let verified = false;
  let unverifiedReason: string | undefined;
  if (!signed) unverifiedReason = "the review is not signed";
  else if (!person)
    unverifiedReason =
      principal === undefined
        ? `signer is not a person in .interlock/config.yaml (${tag.taggerEmail})`
        : `signer ${principal.id} is an agent, and agents never review`;
  else if (tag.commit !== tag.target) {
    unverifiedReason = "the review names a different commit than it is attached to";
  } else {
    const r = verifySshSignature(signed.signature, signed.payload, "git", person, signers);
    verified = r.ok;
    if (!r.ok) unverifiedReason = r.reason;
  }
  return {
    who: person ?? principal?.id ?? tag.taggerName,
    state: tag.state as GateReview["state"],
    commit: tag.target,
    at: tag.at,
    isBot: info?.bot ?? false,
    verified,
    ...(unverifiedReason ? { unverifiedReason } : {}),
    canApprove: info !== undefined && !info.bot,
    ...(tag.note ? { note: tag.note } : {}),
  };
}
