import { requestPathPattern } from "../evidence/evidence.ts";
import type { ProposalContext } from "../forge/forge.ts";
import { parseRequestFile, type ParsedRequestFile } from "../proposal/request-file.ts";
import { parseCodeowners } from "./codeowners.ts";
import type { GateSnapshot } from "./snapshot.ts";

export { requestPathPattern };

export type Collected =
  | {
      readonly ok: true;
      readonly snapshot: GateSnapshot;
      readonly record: ParsedRequestFile;
      readonly path: string;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Gathers the gate's snapshot from a forge's proposal context: the path for forges that do not
 * yet provide an evidence source (GitHub). The local forge is judged by evidenceAtMerge. The requester and the decision
 * come from the file Interlock originally wrote (the baseline), never from the head, so an
 * edit on the branch cannot change who is excluded or what is required; the head's content
 * is only compared with it.
 */
export async function collectSnapshot(
  ctx: ProposalContext,
  now: Date,
  knownPath?: string,
): Promise<Collected> {
  const changed = await ctx.changedFiles();
  const pattern = requestPathPattern(ctx.id);
  const path = knownPath ?? changed.find((c) => pattern.test(c.path))?.path;
  if (path === undefined) {
    return {
      ok: false,
      reason: `the proposal for ${ctx.id} has no request file requests/<action>/${ctx.id}.yaml`,
    };
  }
  const originalText = await ctx.readOriginal(path);
  const headText = await ctx.readHead(path);
  const original = originalText === undefined ? undefined : parseRequestFile(originalText);
  const head = headText === undefined ? undefined : parseRequestFile(headText);
  const trusted =
    original && "record" in original ? original : head && "record" in head ? head : undefined;
  if (trusted === undefined || !("record" in trusted)) {
    const why = head && "error" in head ? head.error : "the request file is missing";
    return { ok: false, reason: `cannot read the request file ${path}: ${why}` };
  }
  const record = trusted.record;
  const declared = record.request.requester;
  // The requester the gate excludes is the one the forge verified, never the declared fields.
  const auth = ctx.authenticate
    ? await ctx.authenticate(declared)
    : {
        verified: true as const,
        signer: declared.id,
        detail: "the forge authenticates who opens a proposal",
      };
  const requester = auth.verified && auth.requester ? auth.requester : declared;
  const codeownersText = await ctx.codeowners();
  const identities = ctx.identities ? await ctx.identities() : undefined;
  const snapshot: GateSnapshot = {
    now,
    request: {
      id: ctx.id,
      path,
      requester,
      authentication: auth.verified
        ? { verified: true, signer: auth.signer, detail: auth.detail }
        : { verified: false, reason: auth.reason },
      decision: record.decision,
      expiresAt: new Date(record.expires_at),
      ...(ctx.withdrawn && (await ctx.withdrawn()) ? { withdrawn: true } : {}),
      // What Interlock wrote; "" when there is no baseline, which never matches (fail closed).
      recordedDigest: original && "record" in original ? original.record.digest : "",
      actualDigest:
        head && "record" in head ? head.actualDigest : "missing or unreadable at the head",
    },
    proposal: {
      author: await ctx.author(),
      headCommit: ctx.headCommit,
      changedFiles: changed,
      committers: await ctx.committers(),
    },
    reviews: await ctx.reviews(),
    teams: await ctx.teams(),
    codeowners: codeownersText === undefined ? null : parseCodeowners(codeownersText),
    ...(identities ? { identities } : {}),
  };
  return { ok: true, snapshot, record, path };
}
