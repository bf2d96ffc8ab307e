import type { InterlockConfig } from "../../config/config.ts";
import { directoryOf, resolvePrincipal } from "../../identity/directory.ts";
import type { GateReview } from "../../gate/snapshot.ts";
import type { GitIdentity } from "./git.ts";
import { Git } from "./git.ts";
import { splitSignedTag, verifySshSignature, type AllowedSigner } from "./sshsig.ts";

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
}

/** The message of a review tag: small, line-based, and covered by the signature. */
export function reviewMessage(
  request: string,
  state: LocalReviewState,
  commit: string,
  note?: string,
): string {
  return [
    `interlock review: ${state}`,
    "",
    `request: ${request}`,
    `state: ${state}`,
    `commit: ${commit}`,
    ...(note ? ["", note.replace(/-----BEGIN/g, "- ----BEGIN")] : []),
  ].join("\n");
}

export function parseReviewTag(raw: string): ReviewTag | undefined {
  const sep = raw.indexOf("\n\n");
  if (sep < 0) return undefined;
  const headers = raw.slice(0, sep).split("\n");
  const body = raw.slice(sep + 2);
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
  return {
    target,
    taggerName: tagger[1]!,
    taggerEmail: tagger[2]!,
    at: new Date(Number(tagger[3]) * 1000),
    request,
    state,
    commit,
  };
}

/**
 * Records a review as an SSH-signed tag on the reviewed commit, with git's own signing
 * (gpg.format=ssh, which runs ssh-keygen -Y sign). The tag name is unique per review.
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
  const date = `${Math.floor(opts.date.getTime() / 1000)} +0000`;
  await git.raw(
    [
      "-c",
      "gpg.format=ssh",
      "-c",
      `user.signingkey=${opts.keyFile}`,
      "tag",
      "-s",
      "-m",
      opts.message,
      opts.name,
      opts.target,
    ],
    {
      GIT_COMMITTER_NAME: opts.tagger.name,
      GIT_COMMITTER_EMAIL: opts.tagger.email,
      GIT_COMMITTER_DATE: date,
    },
  );
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
  };
}
