import { requestPathPattern } from "../evidence/evidence.ts";
import { judgeEvidence, type EvidenceVerdict } from "../evidence/judge.ts";
import type { ProposalContext } from "../forge/forge.ts";
import { parseRequestFile } from "../proposal/request-file.ts";
import { parseCodeowners } from "./codeowners.ts";

export { requestPathPattern };

/**
 * The evidence of a proposal read through a forge's proposal context (GitHub), judged by the
 * one rule every forge shares (judgeEvidence; the local forge gathers the same facts from
 * committed Git objects in evidenceAtMerge). The requester and the decision come from the file
 * Interlock originally wrote (the baseline), never from the head, so an edit on the branch
 * cannot change who is excluded or what is required; the head's content is only compared with
 * it. `at` is the moment judged (now for an open proposal, the merge for a merged one); `now`
 * is the verifier's own clock.
 */
export async function contextEvidence(
  ctx: ProposalContext,
  at: Date,
  now: Date,
  knownPath?: string,
): Promise<EvidenceVerdict> {
  const changed = await ctx.changedFiles();
  const pattern = requestPathPattern(ctx.id);
  const path = knownPath ?? changed.find((c) => pattern.test(c.path))?.path;
  if (path === undefined) {
    return {
      ok: false,
      reason: `the proposal for ${ctx.id} has no request file requests/<action>/${ctx.id}.yaml`,
    };
  }
  if (!ctx.config || !ctx.policy || !ctx.filedAt) {
    return {
      ok: false,
      reason: `this forge does not say what the configuration, the policy and the filing time of ${ctx.id} were, so its evidence cannot be judged`,
    };
  }
  const config = await ctx.config();
  if (config === undefined) {
    return {
      ok: false,
      reason: `there is no .interlock/config.yaml at ${ctx.baseCommit.slice(0, 7)}, the base of ${ctx.id}'s proposal`,
    };
  }
  const originalText = await ctx.readOriginal(path);
  const headText = await ctx.readHead(path);
  const fact = (text: string | undefined) =>
    text === undefined
      ? undefined
      : { blob: { content: Buffer.from(text, "utf8") }, parse: parseRequestFile(text) };
  const original = fact(originalText);
  const landed = fact(headText);
  const trusted = [original, landed].find((f) => f !== undefined && "record" in f.parse);
  const declared =
    trusted && "record" in trusted.parse ? trusted.parse.record.request.requester : undefined;
  // The requester the gate excludes is the one the forge verified, never the declared fields.
  const authentication =
    declared === undefined
      ? { verified: false as const, reason: "the request file cannot be read" }
      : ctx.authenticate
        ? await ctx.authenticate(declared)
        : {
            verified: false as const,
            reason: "this forge does not say who filed the request",
          };
  const codeownersText = await ctx.codeowners();
  const unreadable = ctx.unreadable ? await ctx.unreadable() : undefined;
  return judgeEvidence(
    {
      id: ctx.id,
      path,
      base: ctx.baseCommit,
      at,
      config,
      codeowners: codeownersText === undefined ? null : parseCodeowners(codeownersText),
      policy: await ctx.policy(),
      ...(original ? { original } : {}),
      ...(landed ? { landed } : {}),
      filed: await ctx.filedAt(),
      authentication,
      proposal: {
        author: await ctx.author(),
        headCommit: ctx.headCommit,
        changedFiles: changed,
        committers: await ctx.committers(),
      },
      reviews: await ctx.reviews(),
      teams: await ctx.teams(),
      // On GitHub a requester withdraws by closing the pull request, which can then never merge.
      ignoredWithdrawals: [],
      deletedReviews: [],
      ...(unreadable ? { unreadable } : {}),
    },
    now,
  );
}
