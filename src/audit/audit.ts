import { parse as parseYaml } from "yaml";
import {
  evidenceAtMerge,
  mergeFromCommit,
  newEvidenceCache,
  withdrawalNow,
  type EvidenceCache,
} from "../evidence/evidence.ts";
import { changeStatus, GitEvidenceReader, listReviewTags } from "../evidence/git-reader.ts";
import type { EvidenceChange } from "../evidence/reader.ts";
import { CatFileBatch, parseCommit } from "../forge/local/cat-file.ts";
import { CLAIM_REF_PREFIX, ORIGINAL_REF_PREFIX } from "../forge/refs.ts";
import { type Withdrawal } from "../forge/local/withdrawal.ts";
import type { GateRuleId } from "../gate/snapshot.ts";
import { Git } from "../forge/local/git.ts";
import { parseRequestFile, type ParsedRequestFile } from "../proposal/request-file.ts";
import { filingTime } from "../evidence/time.ts";
import { interlockHome } from "../settings/home.ts";
import { TrustChainBuilder, untrustedChain, type TrustChain } from "../trust/chain.ts";
import { pinnedRoot } from "../trust/root.ts";
import { firstParentHistory, type HistoryCommit } from "./history.ts";

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
  /** A verified checkpoint: merges up to its tip are not re-verified; its tip must remain. */
  readonly checkpoint?: { readonly tip: string };
  /** Called after each request record with how many are done of how many (for a progress count). */
  readonly onProgress?: (done: number, total: number) => void;
}

const REQUEST_PATH = /^requests\/[^/]+\/([0-9A-HJKMNP-TV-Z]{26})\.yaml$/;
const DENIAL_PATH = /^denials\/([0-9A-HJKMNP-TV-Z]{26})\.yaml$/;
const RESULT_PATH = /^results\/([0-9A-HJKMNP-TV-Z]{26})\.yaml$/;
const WITHDRAWAL_PATH = /^withdrawals\/([0-9A-HJKMNP-TV-Z]{26})\.yaml$/;

/** How many requests are verified at once (keeps the cat-file pipe busy). */
const WINDOW = 64;

/**
 * Rebuilds the trail from Git history alone: denials, merged requests, results, and pending
 * proposals. With verify, re-checks for every merged request that the gate held at the merge
 * (signatures, groups, CODEOWNERS and exclusions, all as of that commit), that the request
 * file is byte-identical to what Interlock filed, and that an executed request has its result;
 * and flags commits that changed or deleted request or result files after the fact.
 */
export async function* auditTrail(opts: AuditOptions): AsyncGenerator<AuditRecord | AuditFinding> {
  const git = new Git(opts.repoDir);
  const batch = new CatFileBatch(opts.repoDir);
  const main = `refs/heads/${opts.branch}`;
  const reviewTags = await listReviewTags(git);
  const mainCommits = new Set<string>();
  const changes = new Map<string, EvidenceChange[]>();
  const chain = new TrustChainBuilder();
  const order = new Map<string, number>();
  // One pass over history (git computes the tree diffs) collects, per request, the commit that
  // merged it and the blobs involved; later changes to request or result files are findings.
  // Work in history order; merged requests are checked after the pass (they need the results).
  const work: (() => Promise<AuditRecord | AuditFinding> | AuditFinding)[] = [];
  const results = new Map<string, string>();
  const changedLater = new Set<string>();
  let ctx: Ctx;
  const seen = new Set<string>();
  let recordCount = 0;
  // Commits that added withdrawals/<id>.yaml, and the commit that added each result.
  const withdrawals = new Map<string, string[]>();
  const resultCommits = new Map<string, string>();
  try {
    for await (const c of firstParentHistory(opts.repoDir, main)) {
      order.set(c.oid, mainCommits.size);
      mainCommits.add(c.oid);
      chain.observe(c);
      if (c.parents[0] !== undefined && c.parents.length <= 2) {
        changes.set(
          `${c.parents[0]} ${c.oid}`,
          c.files.map((f) => ({ path: f.path, status: changeStatus(f.status) })),
        );
      }
      for (const f of c.files) {
        const req = REQUEST_PATH.exec(f.path);
        const den = DENIAL_PATH.exec(f.path);
        const res = RESULT_PATH.exec(f.path);
        const wd = WITHDRAWAL_PATH.exec(f.path);
        if (wd && f.status === "A") {
          const list = withdrawals.get(wd[1]!) ?? [];
          list.push(c.oid);
          withdrawals.set(wd[1]!, list);
        }
        if (req && f.status === "A") {
          seen.add(req[1]!);
          const m: Merge = { id: req[1]!, path: f.path, blob: f.blob, commit: c };
          work.push(() => merged(m, ctx));
          recordCount++;
        } else if (den && f.status === "A") {
          seen.add(den[1]!);
          const [id, blob] = [den[1]!, f.blob];
          work.push(() => denial(id, blob, batch));
          recordCount++;
        } else if (res && f.status === "A") {
          results.set(res[1]!, f.blob);
          if (!resultCommits.has(res[1]!)) resultCommits.set(res[1]!, c.oid);
        } else if (req || den || res) {
          if (req) changedLater.add(f.path);
          if (res && f.status === "D") results.delete(res[1]!);
          else if (res) results.set(res[1]!, f.blob);
          if (!opts.verify) continue;
          const problem = res
            ? `${f.path} (an execution result) was ${verb(f.status)}`
            : `${f.path} was ${verb(f.status)} after it was recorded`;
          const finding: AuditFinding = { commit: c.oid, problem };
          work.push(() => finding);
        }
      }
    }
    const reader = new GitEvidenceReader(opts.repoDir, opts.branch, {
      batch,
      known: { mainCommits, reviewTags, changes, withdrawals },
    });
    const cache = newEvidenceCache();
    let trust: TrustChain | undefined;
    const checkpointIndex = opts.checkpoint ? order.get(opts.checkpoint.tip) : undefined;
    if (opts.verify && opts.checkpoint && checkpointIndex === undefined) {
      yield {
        commit: opts.checkpoint.tip,
        problem:
          `history was rewritten: the checkpointed commit ${opts.checkpoint.tip.slice(0, 12)} is no longer on ` +
          `${opts.branch}'s first-parent history`,
      };
    }
    if (opts.verify) {
      const pinned = await pinnedRoot(git, opts.branch, opts.home ?? interlockHome(process.env));
      trust = pinned.ok
        ? await chain.finish(reader, pinned.root, cache)
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
      order,
      checkpointIndex,
      now: opts.now ?? new Date(),
      opts,
      results,
      resultCommits,
      withdrawals,
      changedLater,
    };
    const open = (await listOriginals(git)).filter((id) => !seen.has(id));
    const total = recordCount + open.length;
    let done = 0;
    const counted = (item: AuditRecord | AuditFinding) => {
      if (!("commit" in item)) opts.onProgress?.(++done, total);
      return item;
    };
    const queue: Promise<AuditRecord | AuditFinding>[] = [];
    for (const next of work) {
      queue.push(Promise.resolve(next()));
      while (queue.length >= WINDOW) yield counted(await queue.shift()!);
    }
    while (queue.length > 0) yield counted(await queue.shift()!);
    for (const id of open) {
      opts.onProgress?.(++done, total);
      const rec = await pending(id, batch, ctx.now);
      yield withdrawals.has(id) && (await withdrawnNow(id, ctx))
        ? { ...rec, status: "withdrawn" }
        : rec;
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
  readonly commit: HistoryCommit;
}

function verb(status: string): string {
  return status === "D" ? "deleted" : status === "M" ? "modified" : `changed (${status})`;
}

interface Ctx {
  readonly batch: CatFileBatch;
  readonly reader: GitEvidenceReader;
  readonly cache: EvidenceCache;
  readonly trust: TrustChain | undefined;
  /** Position of each default-branch commit in first-parent order (oldest 0). */
  readonly order: ReadonlyMap<string, number>;
  /** Merges at or before this position were verified under a signed checkpoint. */
  readonly checkpointIndex: number | undefined;
  /** The auditor's clock. */
  readonly now: Date;
  readonly opts: AuditOptions;
  /** request id → blob of its result file on the default branch. */
  readonly results: Map<string, string>;
  /** request id → the commit that first added its result file. */
  readonly resultCommits: ReadonlyMap<string, string>;
  /** request id → commits that added its withdrawal file (verified only when judged). */
  readonly withdrawals: ReadonlyMap<string, readonly string[]>;
  /** Request files that a later commit on the default branch modified or deleted. */
  readonly changedLater: Set<string>;
}

async function merged(m: Merge, ctx: Ctx): Promise<AuditRecord> {
  const { batch } = ctx;
  const { id, path } = m;
  const problems: string[] = [];
  const mergeObj = await batch.read(m.commit.oid);
  const merge = parseCommit(mergeObj!.content);
  const head = merge.parents[1] ?? m.commit.oid;
  const originalCommit = await batch.read(`${ORIGINAL_REF_PREFIX}${id}`);
  const original = originalCommit ? parseCommit(originalCommit.content) : undefined;
  const mergedBlob = await batch.read(m.blob);
  // Is what landed byte-identical to what Interlock filed? Fast when the merge's tree is the
  // filed commit's tree (nothing else moved); otherwise look the file up in the original.
  let originalBlobOid: string | undefined;
  if (originalCommit && original) {
    if (originalCommit.oid === head && original.tree === m.commit.tree) originalBlobOid = m.blob;
    else originalBlobOid = (await batch.read(`${originalCommit.oid}:${path}`))?.oid;
  }
  const originalBlob =
    originalBlobOid === m.blob
      ? mergedBlob
      : originalBlobOid
        ? await batch.read(originalBlobOid)
        : undefined;
  const parsed = parseRequestFile((originalBlob ?? mergedBlob)!.content.toString("utf8"));
  const resultBlob = ctx.results.get(id);
  const resultText = resultBlob === undefined ? undefined : await batch.readText(resultBlob);
  const result =
    resultText === undefined ? undefined : (parseYaml(resultText) as Record<string, unknown>);
  const claimed = trailers(merge.message, "Interlock-Approved-By");
  const verifyThis = ctx.opts.verify && !coveredByCheckpoint(m, ctx);
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
  } else if (!executed && ctx.withdrawals.has(id) && (await withdrawnNow(id, ctx))) {
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

/** Whether a signed checkpoint already covers this merge (verified by an earlier run). */
function coveredByCheckpoint(m: Merge, ctx: Ctx): boolean {
  const upTo = ctx.checkpointIndex;
  return upTo !== undefined && (ctx.order.get(m.commit.oid) ?? Infinity) <= upTo;
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
  // A withdrawal counts when it was recorded before the request's result (if any).
  const resultAt = ctx.order.get(ctx.resultCommits.get(id) ?? "");
  const ev = await evidenceAtMerge(ctx.reader, merge, {
    now: ctx.now,
    cache: ctx.cache,
    ...(ctx.trust ? { trust: ctx.trust } : {}),
    countsWithdrawal: (c) =>
      resultAt === undefined || (ctx.order.get(c.oid) ?? Infinity) < resultAt,
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
    filingTime(
      { ...parseCommit(commit.content), oid: commit.oid, raw: commit.content },
      r,
      now,
    ).expiresAt.getTime() <= now.getTime();
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
    const text = await batch.readText(`${commit}:requests/${name}/${id}.yaml`);
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
