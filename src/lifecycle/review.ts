import { existsSync } from "node:fs";
import { monotonicFactory } from "ulid";
import { InterlockError } from "../errors.ts";
import type { LocalForge } from "../forge/local/local-forge.ts";
import {
  REVIEW_TAG_PREFIX,
  reviewMessage,
  signReviewTag,
  type LocalReviewState,
} from "../forge/local/reviews.ts";
import { listReviewTags } from "../evidence/git-reader.ts";
import { evidenceAtMerge } from "../evidence/evidence.ts";

const reviewId = monotonicFactory();

/**
 * Local forge only: records a signed approval or rejection of a proposal's current head. The
 * gate decides later whether it counts; this only refuses what can never be valid (an unknown
 * person, a missing key, an expired request).
 */
export async function recordReview(
  forge: LocalForge,
  opts: {
    id: string;
    who: string;
    state: LocalReviewState;
    /** The reviewer's private SSH key (from their Interlock home, never the repository). */
    keyFile: string;
    note?: string;
    now: Date;
  },
): Promise<{ tag: string; head: string }> {
  const person = forge.config.people[opts.who];
  if (person === undefined) {
    throw new InterlockError("usage", `${opts.who} is not a person in .interlock/config.yaml`, {
      hint: `People here: ${Object.keys(forge.config.people).join(", ")}.`,
    });
  }
  const context = await forge.proposal(opts.id);
  if (context === undefined) {
    throw new InterlockError("usage", `no open proposal for request ${opts.id}`, {
      hint: "A merged or denied request cannot be reviewed.",
    });
  }
  // Expiry by the one rule (filing time + TTL), as the gate will judge it.
  const source = forge.evidenceSource();
  let expiresAt: Date;
  try {
    const m = await source.prospective(opts.id, opts.now);
    if (m === undefined) {
      throw new InterlockError("usage", `no open proposal for request ${opts.id}`, {
        hint: "A merged or denied request cannot be reviewed.",
      });
    }
    const ev = await evidenceAtMerge(source.reader, m, { now: opts.now });
    if (!ev.ok) throw new InterlockError("request.invalid", ev.reason);
    expiresAt = ev.expiresAt;
  } finally {
    source.close();
  }
  if (opts.now.getTime() >= expiresAt.getTime()) {
    throw new InterlockError(
      "usage",
      `request ${opts.id} expired at ${expiresAt.toISOString()}; it can no longer be approved`,
      {
        hint: "The requester can file it again if it is still needed.",
      },
    );
  }
  const keyFile = opts.keyFile;
  if (!existsSync(keyFile)) {
    throw new InterlockError("usage", `no signing key at ${keyFile}`, {
      hint: `Pass --key <private key file> for ${opts.who}, or put it in your Interlock home.`,
    });
  }
  // Every review names the reviews of this request it was given next to, so deleting one of
  // them later (a rejection, say) leaves a signed trace that the evidence check fails on.
  const seen = (await listReviewTags(forge.git)).get(opts.id) ?? [];
  const tag = `${REVIEW_TAG_PREFIX}${opts.id}/${opts.who}-${reviewId(opts.now.getTime())}`;
  try {
    await signReviewTag(forge.git, {
      name: tag,
      target: context.headCommit,
      message: reviewMessage(opts.id, opts.state, context.headCommit, opts.note, seen),
      tagger: { name: person.name, email: person.email },
      keyFile,
      date: opts.now,
    });
  } catch (err) {
    throw new InterlockError(
      "internal",
      `signing the review failed: ${(err as Error).message.split("\n")[0]}`,
      {
        hint: "Check that the key file is an unencrypted SSH private key readable only by you (chmod 600).",
      },
    );
  }
  return { tag, head: context.headCommit };
}
