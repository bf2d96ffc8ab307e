import { parse as parseYaml } from "yaml";
import {
  evidenceAtMerge,
  mergeFromCommit,
  newEvidenceCache,
  withdrawalNow,
  requestFileOf,
  type EvidenceCache,
} from "../evidence/evidence.ts";
import {
  changeStatus,
  GitEvidenceReader,
  listReviewTags,
  listWithdrawalCommits,
} from "../evidence/git-reader.ts";
import type { EvidenceChange } from "../evidence/reader.ts";
import { CatFileBatch, parseCommit } from "../forge/local/cat-file.ts";
import {
  CLAIM_REF_PREFIX,
  idOfDenialPath,
  idOfRequestPath,
  idOfResultPath,
  ORIGINAL_REF_PREFIX,
  requestPath,
} from "../forge/refs.ts";
import { type Withdrawal } from "../forge/local/withdrawal.ts";
import type { GateRuleId } from "../gate/snapshot.ts";
import { Git } from "../forge/local/git.ts";
import { parseRequestFile, type ParsedRequestFile } from "../proposal/request-file.ts";
import { readYamlSubset } from "../proposal/yaml-subset.ts";
import { filingTime } from "../evidence/time.ts";
import { interlockHome } from "../settings/home.ts";
import { TrustChainBuilder, untrustedChain, type TrustChain } from "../trust/chain.ts";
import { pinnedRoot, readPin } from "../trust/root.ts";
import { firstParentHistory } from "./history.ts";

/** One line of the audit trail (`audit --json`, docs/cli.md). */
export interface AuditRecord {
  readonly id: string;
  readonly action: string;
  readonly requester: string;
  readonly on_behalf_of: string | null;
  readonly risk: string;
  /** allowed | denied | auto-approved */
  readonly decision: string;
  readonly status:
    "denied" | "pending" | "expired" | "merged" | "executed" | "refused" | "withdrawn";
  /** Approvers whose signed reviews the audit verified (with --verify); never taken on trust. */
  readonly approvers: string[];
  /**
   * Without --verify (or for requests covered by a checkpoint): who the merge commit's
   * Interlock-Approved-By trailers claim approved. A claim anyone can write, never a fact.
   */
  readonly unverified_approvers?: string[];
  readonly requested_at: string;
  readonly merged_at: string | null;
  readonly executed_at: string | null;
  readonly outcome: string | null;
  readonly policy_revision: string;
  /** With --verify: what is wrong with this request's evidence (empty when all holds). */
  readonly problems?: string[];
}

/** A problem found in history that is not tied to one request's record. */
export interface AuditFinding {
  readonly commit: string;
  readonly problem: string;
}

export interface AuditOptions {
  readonly repoDir: string;
  readonly branch: string;
  readonly verify: boolean;
  /** The auditor's clock (filing times later than it are refused); default: now. */
  readonly now?: Date;
  /** The auditor's Interlock home, where it pins the repository's trust root. */
  readonly home?: string;
  /**
   * A verified checkpoint (its signature checked by the caller): with verify, only the history
   * after its tip is read and verified, and its tip must still be on the default branch's
   * first-parent history. `root`, when given, is the trust root the checkpoint was made under
   * (it spares a walk of the whole history to find the root).
   */
  readonly checkpoint?: Checkpointed;
  /** Called after each request record with how many are done of how many (for a progress count). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** What a verified checkpoint vouches for (checkpoint.ts): its tip, root and withdrawals. */
export interface Checkpointed {
  readonly tip: string;
  readonly root?: string;
  /** The withdrawal commits reachable from the tip (spares a walk of the whole history). */
  readonly withdrawals?: Readonly<Record<string, readonly string[]>>;
}

/**
 * request id → the commits reachable from `tip` that added its withdrawal file, oldest first:
 * what a checkpoint at `tip` records. `since`, a checkpoint whose tip is on `tip`'s history
 * (the caller has checked it) and that records its withdrawals, spares the walk of the whole
 * history: only what is new since it is listed, after its list (no commit reachable from the
 * checkpointed tip descends from a new one).
 */
export async function withdrawalsAt(
  repoDir: string,
  tip: string,
  since?: Checkpointed,
): Promise<Record<string, string[]>> {
  const git = new Git(repoDir);
  if (since?.withdrawals === undefined)
    return Object.fromEntries(await listWithdrawalCommits(git, [tip]));
  const all: Record<string, string[]> = {};
  for (const [id, commits] of Object.entries(since.withdrawals)) all[id] = [...commits];
  if (since.tip === tip) return all;
  for (const [id, commits] of await listWithdrawalCommits(git, [tip, `^${since.tip}`]))
    all[id] = [...(all[id] ?? []), ...commits];
  return all;
}

/** How many requests are verified at once (keeps the cat-file pipe busy). */
const WINDOW = 64;

/**
 * Rebuilds the trail from Git history alone: denials, merged requests, results, and pending
 * proposals. With verify, re-checks for every merged request that the gate held at the merge
 * (signatures, groups, CODEOWNERS and exclusions, all as of that commit), that the request
 * file is byte-identical to what Interlock filed, and that an executed request has its result;
 * and flags commits that changed or deleted request or result files after the fact.
 *
 * With verify and a checkpoint, only what is new since the checkpoint is read and verified
 * (its merges, denials, findings and governance changes; pending requests are listed by a
 * full audit). A commit id names all the history below it, so a checkpointed tip that is
 * still on the first-parent history proves that nothing below it was rewritten; when it is
 * not, the rewrite is reported and the whole history is verified again.
 */
export async function* auditTrail(opts: AuditOptions): AsyncGenerator<AuditRecord | AuditFinding> {
  const git = new Git(opts.repoDir);
  const main = `refs/heads/${opts.branch}`;
  if (opts.verify && opts.checkpoint) {
    const tip = await git.revParse(main);
    const kept =
      tip === undefined ? false : await onFirstParentHistory(git, tip, opts.checkpoint.tip);
    if (kept && tip !== undefined) {
      yield* pass(opts, git, tip, opts.checkpoint);
      return;
    }
    yield {
      commit: opts.checkpoint.tip,
      problem:
        `history was rewritten: the checkpointed commit ${opts.checkpoint.tip.slice(0, 12)} is no longer on ` +
        `${opts.branch}'s first-parent history`,
    };
  }
  yield* pass(opts, git, main, undefined);
}

/**
 * Whether `commit` is on `tip`'s first-parent history; git lists only the commits between
 * them (the oldest listed has `commit` as its first parent exactly when it is).
 */
export async function onFirstParentHistory(
  git: Git,
  tip: string,
  commit: string,
): Promise<boolean> {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit)) return false;
  if (tip === commit) return true;
  const out = await git.tryRaw([
    "rev-list",
    "--first-parent",
    "--parents",
    tip,
    `^${commit}`,
    "--",
  ]);
  if (out === undefined) return false;
  const lines = out.trim().split("\n").filter(Boolean);
  return lines.length > 0 && lines[lines.length - 1]!.split(" ")[1] === commit;
}

/** One pass over the history (all of it, or what follows a checkpoint that still holds). */
async function* pass(
  opts: AuditOptions,
  git: Git,
  tip: string,
  checkpoint: Checkpointed | undefined,
): AsyncGenerator<AuditRecord | AuditFinding> {
  const batch = new CatFileBatch(opts.repoDir);
  const mainCommits = new Set<string>();
  const changes = new Map<string, EvidenceChange[]>();
  const files = new Map<string, string>();
  const chain = new TrustChainBuilder();
  // The checkpointed commit stands for the verified history below it (the chain's start).
  if (checkpoint) {
    chain.observe({ oid: checkpoint.tip, parents: [], files: [] });
    mainCommits.add(checkpoint.tip);
  }
  // One pass over history (git computes the tree diffs) collects, per request, the commit that
  // merged it and the blobs involved; later changes to request or result files are findings.
  // Work in history order; merged requests are checked after the pass (they need the results).
  const work: (() => Promise<AuditRecord | AuditFinding> | AuditFinding)[] = [];
  const results = new Map<string, string>();
  const changedLater = new Set<string>();
  const mergedIds: string[] = [];
  let ctx: Ctx;
  const seen = new Set<string>();
  let recordCount = 0;
  // Position of each walked default-branch commit (oldest first; after a checkpoint only what
  // follows it: a commit below it has no position and so lies before every walked one).
  const order = new Map<string, number>();
  // The commit that added each result.
  const resultCommits = new Map<string, string>();
  try {
    const range = checkpoint ? [tip, `^${checkpoint.tip}`] : [tip];
    for await (const c of firstParentHistory(opts.repoDir, range)) {
      order.set(c.oid, order.size);
      mainCommits.add(c.oid);
      chain.observe(c);
      // Kept only for the merges the audit judges (any other pair is diffed by git if asked).
      if (
        c.parents[0] !== undefined &&
        c.parents.length <= 2 &&
        c.files.some((f) => f.status === "A" && idOfRequestPath(f.path))
      ) {
        changes.set(
          `${c.parents[0]} ${c.oid}`,
          c.files.map((f) => ({ path: f.path, status: changeStatus(f.status) })),
        );
      }
      for (const f of c.files) {
        const req = idOfRequestPath(f.path);
        const den = idOfDenialPath(f.path);
        const res = idOfResultPath(f.path);
        if (req && f.status !== "D") files.set(`${c.tree} ${f.path}`, f.blob);
        if (req && f.status === "A") {
          seen.add(req);
          mergedIds.push(req);
          const m: Merge = {
            id: req,
            path: f.path,
            blob: f.blob,
            commit: { oid: c.oid, tree: c.tree, parent: c.parents[0], committedAt: c.committedAt },
          };
          work.push(async () => {
            try {
              return await merged(m, ctx);
            } finally {
              // Facts about this merge alone: nothing else reads them once it is judged.
              files.delete(`${m.commit.tree} ${m.path}`);
              changes.delete(`${m.commit.parent} ${m.commit.oid}`);
            }
          });
          recordCount++;
        } else if (den && f.status === "A") {
          seen.add(den);
          const [id, blob] = [den, f.blob];
          work.push(() => denial(id, blob, batch));
          recordCount++;
        } else if (res && f.status === "A") {
          results.set(res, f.blob);
          if (!resultCommits.has(res)) resultCommits.set(res, c.oid);
        } else if (req || den || res) {
          if (req) changedLater.add(f.path);
          if (res && f.status === "D") results.delete(res);
          else if (res) results.set(res, f.blob);
          if (!opts.verify) continue;
          const problem = res
            ? `${f.path} (an execution result) was ${verb(f.status)}`
            : `${f.path} was ${verb(f.status)} after it was recorded`;
          const finding: AuditFinding = { commit: c.oid, problem };
          work.push(() => finding);
        }
      }
    }
    // After a checkpoint, only the new requests' reviews are listed, and commits new since it
    // (not reachable from it) are known not to lie below it.
    const reviewTags = checkpoint
      ? await listReviewTags(git, mergedIds)
      : await listReviewTags(git);
    const below = checkpoint
      ? {
          tip: checkpoint.tip,
          unreachable: new Set(
            ((await git.tryRaw(["rev-list", tip, `^${checkpoint.tip}`, "--"])) ?? "")
              .split("\n")
              .filter(Boolean),
          ),
        }
      : undefined;
    // The withdrawals below a checkpoint that records them, and those added since: no walk of
    // the whole history (the reader's own listing).
    const withdrawals =
      checkpoint?.withdrawals !== undefined
        ? new Map(Object.entries(await withdrawalsAt(opts.repoDir, tip, checkpoint)))
        : undefined;
    const reader = new GitEvidenceReader(opts.repoDir, opts.branch, {
      batch,
      known: {
        mainCommits,
        reviewTags,
        changes,
        files,
        // The reader lists withdrawals itself (one path-limited git log over every commit
        // reachable from the branch, not only the first-parent line this walk follows): one
        // recorded before a checkpoint, or brought in as a merge's second parent, still counts.
        ...(below ? { below, reviewTagsPartial: true } : {}),
        ...(withdrawals ? { withdrawals } : {}),
      },
    });
    const cache = newEvidenceCache();
    let trust: TrustChain | undefined;
    if (opts.verify) {
      const home = opts.home ?? interlockHome(process.env);
      const pinned =
        checkpoint?.root !== undefined
          ? readPin(home, checkpoint.root) === checkpoint.root
            ? { ok: true as const, root: checkpoint.root }
            : {
                ok: false as const,
                reason: `the trust root ${checkpoint.root.slice(0, 12)} is not pinned in ${home}`,
              }
          : await pinnedRoot(git, opts.branch, home);
      trust = pinned.ok
        ? // After a checkpoint, the chain starts at its tip: verified from the root before.
          await chain.finish(reader, checkpoint ? checkpoint.tip : pinned.root, cache)
        : untrustedChain(pinned.reason);
      if (trust.broken) {
        yield {
          commit: trust.broken.commit || "0".repeat(40),
          problem: `the trust chain is broken: ${trust.broken.reason}`,
        };
      }
    }
    ctx = {
      batch,
      reader,
      cache,
      trust,
      now: opts.now ?? new Date(),
      opts,
      results,
      resultCommits,
      order,
      changedLater,
    };
    // With a checkpoint only what is new is listed: pending requests appear in a full audit.
    const open = checkpoint ? [] : (await listOriginals(git)).filter((id) => !seen.has(id));
    const total = recordCount + open.length;
    let done = 0;
    const counted = (item: AuditRecord | AuditFinding) => {
      if (!("commit" in item)) opts.onProgress?.(++done, total);
      return item;
    };
    const queue: Promise<AuditRecord | AuditFinding>[] = [];
    for (let i = 0; i < work.length; i++) {
      const next = work[i]!;
      // What a judged request held is released as the audit goes (memory stays flat).
      work[i] = released;
      queue.push(Promise.resolve(next()));
      while (queue.length >= WINDOW) yield counted(await queue.shift()!);
    }
    while (queue.length > 0) yield counted(await queue.shift()!);
    for (const id of open) {
      opts.onProgress?.(++done, total);
      const rec = await pending(id, batch, ctx.now);
      yield (await withdrawnNow(id, ctx)) ? { ...rec, status: "withdrawn" } : rec;
    }
  } finally {
    batch.close();
  }
}

/** A request file added on the default branch, with the commit that added it. */
interface Merge {
  readonly id: string;
  readonly path: string;
  readonly blob: string;
  readonly commit: {
    readonly oid: string;
    readonly tree: string;
    readonly parent: string | undefined;
    readonly committedAt: Date;
  };
}

const released = (): AuditFinding => {
  throw new Error("audit work item run twice");
};

function verb(status: string): string {
  return status === "D" ? "deleted" : status === "M" ? "modified" : `changed (${status})`;
}

interface Ctx {
  readonly batch: CatFileBatch;
  readonly reader: GitEvidenceReader;
  readonly cache: EvidenceCache;
  readonly trust: TrustChain | undefined;
  /** The auditor's clock. */
  readonly now: Date;
  readonly opts: AuditOptions;
  /** request id → blob of its result file on the default branch. */
  readonly results: Map<string, string>;
  /** request id → the commit that first added its result file (in the walked history). */
  readonly resultCommits: ReadonlyMap<string, string>;
  /** Position of each walked default-branch commit, oldest first. */
  readonly order: ReadonlyMap<string, number>;
  /** request id → commits that added its withdrawal file (verified only when judged). */
  /** Request files that a later commit on the default branch modified or deleted. */
  readonly changedLater: Set<string>;
}

async function merged(m: Merge, ctx: Ctx): Promise<AuditRecord> {
  const { batch, reader, cache } = ctx;
  const { id, path } = m;
  const problems: string[] = [];
  const merge = (await reader.commit(m.commit.oid))!;
  const original = await reader.commit(`${ORIGINAL_REF_PREFIX}${id}`);
  // Is what landed byte-identical to what Interlock filed? The filed commit's file is usually
  // the very blob that landed (git reported it for the same tree); else it is looked up.
  const originalBlobOid = original ? await reader.objectId(original.oid, path) : undefined;
  const filed = originalBlobOid ? await batch.read(originalBlobOid) : undefined;
  const landed = filed && filed.oid === m.blob ? filed : await batch.read(m.blob);
  const source = filed ?? landed;
  const parsed = source
    ? requestFileOf({ oid: source.oid, content: source.content }, cache)
    : { error: "the request file is missing" };
  const resultBlob = ctx.results.get(id);
  const resultText = resultBlob === undefined ? undefined : await batch.readText(resultBlob);
  const result =
    resultText === undefined
      ? undefined
      : (readYamlSubset(resultText) ?? (parseYaml(resultText) as Record<string, unknown>));
  const claimed = trailers(merge.message, "Interlock-Approved-By");
  const verifyThis = ctx.opts.verify;
  const base = {
    action: path.split("/")[1] ?? "?",
    merged_at: m.commit.committedAt.toISOString(),
    executed_at: typeof result?.finished_at === "string" ? result.finished_at : null,
    outcome: typeof result?.outcome === "string" ? result.outcome : null,
  };
  if ("error" in parsed) {
    return {
      id,
      ...fromFile(undefined),
      ...base,
      decision: "?",
      status: result ? "executed" : "merged",
      approvers: [],
      unverified_approvers: claimed,
      ...(ctx.opts.verify
        ? { problems: [`the request file cannot be read: ${parsed.error}`] }
        : {}),
    };
  }
  const record = parsed.record;
  const executed = result !== undefined && result.outcome !== "refused";
  let gateApprovers: string[] | undefined;
  let withdrawnBy: unknown;
  if (verifyThis) {
    if (originalBlobOid === undefined)
      problems.push("there is no record that Interlock filed this request (no original)");
    else if (originalBlobOid !== m.blob) {
      problems.push("the request file merged differs from the one Interlock filed (tampered)");
    }
    if (ctx.changedLater.has(path)) {
      problems.push("the request file on the default branch was changed after it was filed");
    }
    const hasClaim = (await batch.read(`${CLAIM_REF_PREFIX}${id}`)) !== undefined;
    if (hasClaim && result === undefined)
      problems.push(
        "it was claimed for execution but its result is missing (deleted or never written)",
      );
    const gate = await gateAtMerge(id, path, m, ctx);
    if (typeof gate === "string") problems.push(gate);
    else {
      gateApprovers = gate.approvers;
      const handled = result?.outcome === "refused" ? " (refused by the executor, never run)" : "";
      const w = gate.withdrawal;
      if (w) {
        const by = `${w.commit.slice(0, 7)}, signed by ${w.by}`;
        // The withdrawal is judged where it lies in history: before the merge, the merge went
        // around the gate; after it and before any result, the request is withdrawn (closed).
        // A commit below a checkpoint has no position: it lies before every walked one.
        if ((ctx.order.get(w.commit) ?? -1) < (ctx.order.get(m.commit.oid) ?? Infinity)) {
          problems.push(`merged after its requester withdrew it (${by})${handled}`);
        } else if (executed) {
          problems.push(`it ran after its requester withdrew it (${by})`);
        } else withdrawnBy = w;
      }
      const others = gate.failing.filter((r) => r !== "not-withdrawn");
      // A bypass is a finding even when the executor caught it: someone merged around the gate.
      if (others.length > 0) {
        problems.push(`merged without a valid gate${handled}: ${gate.summary}`);
      } else if (result?.outcome === "refused" && !w) {
        // The executor, which can open the sealed original, found what history alone cannot.
        problems.push(
          `refused by the executor, never run: ${String(result.reason ?? "no reason recorded")}`,
        );
      }
    }
  } else if (!executed && (await withdrawnNow(id, ctx))) {
    withdrawnBy = true;
  }
  return {
    id,
    ...fromFile(record),
    ...base,
    decision: record.decision.auto_approve ? "auto-approved" : "allowed",
    status:
      withdrawnBy !== undefined && !executed
        ? "withdrawn"
        : result === undefined
          ? "merged"
          : executed
            ? "executed"
            : "refused",
    approvers: gateApprovers ?? [],
    ...(gateApprovers === undefined ? { unverified_approvers: claimed } : {}),
    ...(ctx.opts.verify ? { problems } : {}),
  };
}

/**
 * Re-judges the merge with the one evidence check (src/evidence), over the audit's batch
 * reader: exactly what the executor and the gate evaluate.
 */
async function gateAtMerge(
  id: string,
  path: string,
  m: Merge,
  ctx: Ctx,
): Promise<
  | {
      satisfied: boolean;
      summary: string;
      approvers: string[];
      failing: GateRuleId[];
      withdrawal: Withdrawal | undefined;
    }
  | string
> {
  const merge = await mergeFromCommit(ctx.reader, { id, path, mergeCommit: m.commit.oid });
  if ("refused" in merge) return merge.refused;
  // A withdrawal counts when it was recorded before the request's result (if any); one below a
  // checkpoint has no position and so lies before any result walked since.
  const resultAt = ctx.order.get(ctx.resultCommits.get(id) ?? "");
  const ev = await evidenceAtMerge(ctx.reader, merge, {
    now: ctx.now,
    cache: ctx.cache,
    ...(ctx.trust ? { trust: ctx.trust } : {}),
    countsWithdrawal: (c) => resultAt === undefined || (ctx.order.get(c.oid) ?? -1) < resultAt,
  });
  if (!ev.ok) return ev.reason;
  return {
    satisfied: ev.satisfied,
    summary: ev.verdict.summary,
    approvers: ev.approvers,
    failing: ev.verdict.rules.filter((r) => !r.ok).map((r) => r.rule),
    withdrawal: ev.withdrawal,
  };
}

/**
 * Whether a request that did not run (pending, or merged without --verify) is withdrawn: the
 * one withdrawal rule (evidence/evidence.ts), with the keys configured on the default branch now.
 */
async function withdrawnNow(id: string, ctx: Ctx): Promise<boolean> {
  // Most requests have no withdrawal record at all: skip the rule's reads for them.
  if ((await ctx.reader.withdrawalCommits(id)).length === 0) return false;
  const w = await withdrawalNow(ctx.reader, id, `refs/heads/${ctx.opts.branch}`, ctx.cache);
  return w.withdrawal !== undefined;
}

/** The fields of a trail record that come from the request file ("?" where it is unreadable). */
function fromFile(r: ParsedRequestFile | undefined) {
  return {
    action: r?.request.action ?? "?",
    requester: r?.request.requester.id ?? "?",
    on_behalf_of: r?.request.requester.on_behalf_of ?? null,
    risk: r?.decision.risk ?? "?",
    requested_at: r?.requested_at ?? "?",
    policy_revision: r?.decision.revision ?? "?",
  };
}

async function denial(id: string, blob: string, batch: CatFileBatch): Promise<AuditRecord> {
  const text = (await batch.readText(blob)) ?? "";
  const parsed = parseRequestFile(text);
  return {
    id,
    ...fromFile("record" in parsed ? parsed.record : undefined),
    decision: "denied",
    status: "denied",
    approvers: [],
    merged_at: null,
    executed_at: null,
    outcome: null,
  };
}

async function pending(id: string, batch: CatFileBatch, now: Date): Promise<AuditRecord> {
  const commit = await batch.read(`${ORIGINAL_REF_PREFIX}${id}`);
  // The original commit adds exactly one request file; find it through its tree.
  const text = commit ? await findAddedRequest(batch, commit.oid, id) : undefined;
  const parsed = text === undefined ? undefined : parseRequestFile(text);
  const r = parsed && "record" in parsed ? parsed.record : undefined;
  // Expired (closed) when the filing time plus the decision's TTL has passed: never the stored
  // expires_at (the same rule as the gate's, src/evidence/time.ts).
  const expired =
    commit !== undefined &&
    r !== undefined &&
    filingTime(parseCommit(commit.content).committedAt, r, now).expiresAt.getTime() <=
      now.getTime();
  return {
    id,
    ...fromFile(r),
    decision: r?.decision.auto_approve ? "auto-approved" : "allowed",
    status: expired ? "expired" : "pending",
    approvers: [],
    merged_at: null,
    executed_at: null,
    outcome: null,
  };
}

async function findAddedRequest(
  batch: CatFileBatch,
  commit: string,
  id: string,
): Promise<string | undefined> {
  const c = parseCommit((await batch.read(commit))!.content);
  const requests = await batch.read(`${c.tree}:requests`);
  if (!requests) return undefined;
  const buf = requests.content;
  let i = 0;
  while (i < buf.length) {
    const sp = buf.indexOf(32, i);
    const nul = buf.indexOf(0, sp);
    const name = buf.subarray(sp + 1, nul).toString("utf8");
    i = nul + 21;
    const text = await batch.readText(`${commit}:${requestPath(name, id)}`);
    if (text !== undefined) return text;
  }
  return undefined;
}

function trailers(message: string, key: string): string[] {
  const re = new RegExp(`^${key}: (.+)$`, "gm");
  return [...message.matchAll(re)].map((m) => m[1]!.trim());
}

async function listOriginals(git: Git): Promise<string[]> {
  const out = await git.raw(["for-each-ref", "--format=%(refname)", ORIGINAL_REF_PREFIX]);
  return (out ?? "")
    .split("\n")
    .filter(Boolean)
    .map((r) => r.slice(ORIGINAL_REF_PREFIX.length));
}

/** CSV with the `audit --json` columns. */
export const CSV_COLUMNS = [
  "id",
  "action",
  "requester",
  "on_behalf_of",
  "risk",
  "decision",
  "status",
  "approvers",
  "requested_at",
  "merged_at",
  "executed_at",
  "outcome",
  "policy_revision",
  "problems",
] as const;

export function csvRow(r: AuditRecord): string {
  const cell = (v: unknown) => {
    const s = Array.isArray(v) ? v.join(";") : v === null || v === undefined ? "" : String(v);
    // Quote, and defuse spreadsheet formulas (a value starting with = + - @).
    const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
    return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return CSV_COLUMNS.map((c) => cell((r as unknown as Record<string, unknown>)[c])).join(",");
}
