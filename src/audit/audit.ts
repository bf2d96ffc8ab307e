import { parse as parseYaml } from "yaml";
import { ownerMembers, parseConfig, CONFIG_PATH, type InterlockConfig } from "../config/config.ts";
import { CatFileBatch, parseCommit, type ParsedCommit } from "../forge/local/cat-file.ts";
import { allowedSigners } from "../forge/local/local-forge.ts";
import { CLAIM_REF_PREFIX, INTERLOCK_IDENTITY, ORIGINAL_REF_PREFIX } from "../forge/refs.ts";
import { REVIEW_TAG_PREFIX, reviewFromTag } from "../forge/local/reviews.ts";
import { verifyRequestCommit } from "../forge/local/signed-request.ts";
import { directoryOf, resolvePrincipal, type IdentityDirectory } from "../identity/directory.ts";
import { findWithdrawal } from "../forge/local/withdrawal.ts";
import { Git } from "../forge/local/git.ts";
import { CODEOWNERS_LOCATIONS, parseCodeowners, type Codeowners } from "../gate/codeowners.ts";
import { evaluateGate } from "../gate/gate.ts";
import type { GateReview, GateSnapshot } from "../gate/snapshot.ts";
import { parseRequestFile, type ParsedRequestFile } from "../proposal/request-file.ts";
import { firstParentHistory, type HistoryCommit } from "./history.ts";

/** One line of the audit trail (SPEC §6 `audit --json`). */
export interface AuditRecord {
  readonly id: string;
  readonly action: string;
  readonly requester: string;
  readonly on_behalf_of: string | null;
  readonly risk: string;
  /** allowed | denied | auto-approved */
  readonly decision: string;
  readonly status: "denied" | "pending" | "merged" | "executed" | "refused" | "withdrawn";
  readonly approvers: string[];
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
  const caches = {
    config: new Map<string, InterlockConfig | Error>(),
    codeowners: new Map<string, Codeowners>(),
  };
  // One pass over history (git computes the tree diffs) collects, per request, the commit that
  // merged it and the blobs involved; later changes to request or result files are findings.
  // Work in history order; merged requests are checked after the pass (they need the results).
  const work: (() => Promise<AuditRecord | AuditFinding> | AuditFinding)[] = [];
  const results = new Map<string, string>();
  const changedLater = new Set<string>();
  let ctx: Ctx;
  const seen = new Set<string>();
  const withdrawals = new Set<string>();
  // A request not executed is shown withdrawn only when its requester's signature holds.
  let directory: IdentityDirectory | undefined;
  const withdrawn = async (
    rec: AuditRecord | AuditFinding,
  ): Promise<AuditRecord | AuditFinding> => {
    if ("commit" in rec || !withdrawals.has(rec.id)) return rec;
    if (rec.status !== "pending" && rec.status !== "merged") return rec;
    if (directory === undefined) {
      const text = await git.readFile(main, CONFIG_PATH);
      try {
        directory = directoryOf(parseConfig(text ?? ""));
      } catch {
        return rec;
      }
    }
    const w = await findWithdrawal(git, opts.branch, rec.id, directory);
    return w ? { ...rec, status: "withdrawn" } : rec;
  };
  try {
    for await (const c of firstParentHistory(opts.repoDir, main)) {
      mainCommits.add(c.oid);
      for (const f of c.files) {
        const req = REQUEST_PATH.exec(f.path);
        const den = DENIAL_PATH.exec(f.path);
        const res = RESULT_PATH.exec(f.path);
        const wd = WITHDRAWAL_PATH.exec(f.path);
        if (wd && f.status === "A") withdrawals.add(wd[1]!);
        if (req && f.status === "A") {
          seen.add(req[1]!);
          const m: Merge = { id: req[1]!, path: f.path, blob: f.blob, commit: c };
          work.push(() => merged(m, ctx));
        } else if (den && f.status === "A") {
          seen.add(den[1]!);
          const [id, blob] = [den[1]!, f.blob];
          work.push(() => denial(id, blob, batch));
        } else if (res && f.status === "A") {
          results.set(res[1]!, f.blob);
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
    ctx = { batch, main, opts, reviewTags, mainCommits, caches, results, changedLater };
    const queue: Promise<AuditRecord | AuditFinding>[] = [];
    for (const next of work) {
      queue.push(Promise.resolve(next()));
      while (queue.length >= WINDOW) yield await withdrawn(await queue.shift()!);
    }
    while (queue.length > 0) yield await withdrawn(await queue.shift()!);
    for (const id of await listOriginals(git)) {
      if (!seen.has(id)) yield await withdrawn(await pending(id, batch));
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
  readonly main: string;
  readonly opts: AuditOptions;
  readonly reviewTags: Map<string, string[]>;
  readonly mainCommits: Set<string>;
  readonly caches: {
    config: Map<string, InterlockConfig | Error>;
    codeowners: Map<string, Codeowners>;
  };
  /** request id → blob of its result file on the default branch. */
  readonly results: Map<string, string>;
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
  const approvers = trailers(merge.message, "Interlock-Approved-By");
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
      approvers,
      ...(ctx.opts.verify
        ? { problems: [`the request file cannot be read: ${parsed.error}`] }
        : {}),
    };
  }
  const record = parsed.record;
  const executed = result !== undefined && result.outcome !== "refused";
  let gateApprovers = approvers;
  if (ctx.opts.verify) {
    if (originalBlobOid === undefined)
      problems.push("there is no record that Interlock filed this request (no original)");
    else if (originalBlobOid !== m.blob) {
      problems.push("the request file merged differs from the one Interlock filed (tampered)");
    }
    if (ctx.changedLater.has(path)) {
      problems.push("the request file on the default branch was changed after it was filed");
    }
    const claimed = (await batch.read(`${CLAIM_REF_PREFIX}${id}`)) !== undefined;
    if (claimed && result === undefined)
      problems.push(
        "it was claimed for execution but its result is missing (deleted or never written)",
      );
    const gate = await gateAtMerge(id, path, m, merge, record, ctx);
    if (typeof gate === "string") problems.push(gate);
    else {
      gateApprovers = gate.approvers;
      // A bypass is a finding even when the executor caught it: someone merged around the gate.
      if (!gate.satisfied) {
        const handled =
          result?.outcome === "refused" ? " (refused by the executor, never run)" : "";
        problems.push(`merged without a valid gate${handled}: ${gate.summary}`);
      } else if (result?.outcome === "refused") {
        // The executor, which can open the sealed original, found what history alone cannot.
        problems.push(
          `refused by the executor, never run: ${String(result.reason ?? "no reason recorded")}`,
        );
      }
    }
  }
  return {
    id,
    ...fromFile(record),
    ...base,
    decision: record.decision.auto_approve ? "auto-approved" : "allowed",
    status: result === undefined ? "merged" : executed ? "executed" : "refused",
    approvers: gateApprovers,
    ...(ctx.opts.verify ? { problems } : {}),
  };
}

/** Re-evaluates the gate as of the merge commit, from history only. */
async function gateAtMerge(
  id: string,
  path: string,
  m: Merge,
  merge: ParsedCommit,
  record: Extract<ReturnType<typeof parseRequestFile>, { record: unknown }>["record"],
  ctx: Ctx,
): Promise<{ satisfied: boolean; summary: string; approvers: string[] } | string> {
  const { batch } = ctx;
  const first = merge.parents[0];
  if (first === undefined) return "the request file was in the very first commit";
  if (merge.parents.length > 2) return "merged by an octopus merge";
  const head = merge.parents[1] ?? m.commit.oid;
  const config = await configAt(first, ctx);
  if (config instanceof Error)
    return `the configuration at the merge cannot be read: ${config.message}`;
  // Commits on the proposal: walk back from the head to the default branch.
  const committers = new Set<string>();
  let author = "";
  let filed: Buffer | undefined;
  const directory = directoryOf(config);
  const stack = [head];
  const visited = new Set<string>();
  while (stack.length > 0 && visited.size < 100) {
    const oid = stack.pop()!;
    if (visited.has(oid) || ctx.mainCommits.has(oid)) continue;
    visited.add(oid);
    const content = (await batch.read(oid))!.content;
    const c = parseCommit(content);
    // The commit that filed the request: the proposal's first, whose parents are on main.
    if (c.parents.every((p) => ctx.mainCommits.has(p))) filed = content;
    const who = (name: string, email: string) =>
      resolvePrincipal(directory, email)?.id ?? resolvePrincipal(directory, name)?.id ?? name;
    committers.add(who(c.authorName, c.authorEmail));
    if (c.committerEmail !== INTERLOCK_IDENTITY.email)
      committers.add(who(c.committerName, c.committerEmail));
    author = who(c.authorName, c.authorEmail);
    stack.push(...c.parents);
  }
  const reviews: GateReview[] = [];
  const signers = signersFor(config);
  for (const tagOid of ctx.reviewTags.get(id) ?? []) {
    const raw = (await batch.read(tagOid))?.content;
    if (!raw) continue;
    const review = reviewFromTag(raw, id, config, signers);
    // Reviews given after the merge cannot have counted for it.
    if (review && review.at.getTime() <= merge.committedAt.getTime()) reviews.push(review);
  }
  // What the merge brought into the default branch, as git's diff against the first parent.
  const changes = m.commit.files.map((f) => ({
    path: f.path,
    status: (f.status === "A" ? "added" : f.status === "D" ? "removed" : "modified") as
      "added" | "removed" | "modified",
  }));
  const declared = record.request.requester;
  const auth =
    filed === undefined
      ? { verified: false as const, reason: "the proposal has no filed commit to verify" }
      : verifyRequestCommit(filed, declared, directory);
  const snapshot: GateSnapshot = {
    now: merge.committedAt,
    identities: directory,
    request: {
      id,
      path,
      requester: auth.verified && auth.requester ? auth.requester : declared,
      authentication: auth.verified
        ? { verified: true, signer: auth.signer, detail: auth.detail }
        : { verified: false, reason: auth.reason },
      decision: record.decision,
      expiresAt: new Date(record.expires_at),
      recordedDigest: record.digest,
      actualDigest: record.digest, // compared by blob identity above
    },
    proposal: { author, headCommit: head, changedFiles: changes, committers: [...committers] },
    reviews,
    teams: ownerMembers(config),
    codeowners: await codeownersAt(first, ctx),
  };
  const v = evaluateGate(snapshot);
  return {
    satisfied: v.satisfied,
    summary: v.summary,
    approvers: v.approvals.filter((a) => a.counted).map((a) => a.who),
  };
}

/** Allowed signers per configuration, built once so sshsig's decoded-key cache is reused. */
const signerCache = new WeakMap<InterlockConfig, ReturnType<typeof allowedSigners>>();
function signersFor(config: InterlockConfig): ReturnType<typeof allowedSigners> {
  let signers = signerCache.get(config);
  if (signers === undefined) {
    signers = allowedSigners(config);
    signerCache.set(config, signers);
  }
  return signers;
}

async function configAt(commit: string, ctx: Ctx): Promise<InterlockConfig | Error> {
  const blob = await ctx.batch.read(`${commit}:${CONFIG_PATH}`);
  if (!blob) return new Error(`no ${CONFIG_PATH}`);
  const cached = ctx.caches.config.get(blob.oid);
  if (cached) return cached;
  let config: InterlockConfig | Error;
  try {
    config = parseConfig(blob.content.toString("utf8"));
  } catch (err) {
    config = err as Error;
  }
  ctx.caches.config.set(blob.oid, config);
  return config;
}

async function codeownersAt(commit: string, ctx: Ctx): Promise<Codeowners | null> {
  for (const loc of CODEOWNERS_LOCATIONS) {
    const blob = await ctx.batch.read(`${commit}:${loc}`);
    if (!blob) continue;
    const cached = ctx.caches.codeowners.get(blob.oid);
    if (cached) return cached;
    const parsed = parseCodeowners(blob.content.toString("utf8"));
    ctx.caches.codeowners.set(blob.oid, parsed);
    return parsed;
  }
  return null;
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

async function pending(id: string, batch: CatFileBatch): Promise<AuditRecord> {
  const commit = await batch.read(`${ORIGINAL_REF_PREFIX}${id}`);
  // The original commit adds exactly one request file; find it through its tree.
  const text = commit ? await findAddedRequest(batch, commit.oid, id) : undefined;
  const parsed = text === undefined ? undefined : parseRequestFile(text);
  const r = parsed && "record" in parsed ? parsed.record : undefined;
  return {
    id,
    ...fromFile(r),
    decision: r?.decision.auto_approve ? "auto-approved" : "allowed",
    status: "pending",
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

/** request id → review tag object ids, from one for-each-ref. */
async function listReviewTags(git: Git): Promise<Map<string, string[]>> {
  const out = await git.raw([
    "for-each-ref",
    "--format=%(objectname) %(objecttype) %(refname)",
    `refs/tags/${REVIEW_TAG_PREFIX}`,
  ]);
  const map = new Map<string, string[]>();
  for (const line of (out ?? "").split("\n")) {
    const [oid, type, ref] = line.split(" ");
    if (type !== "tag" || !ref) continue;
    const id = ref.slice(`refs/tags/${REVIEW_TAG_PREFIX}`.length).split("/")[0]!;
    const list = map.get(id) ?? [];
    list.push(oid!);
    map.set(id, list);
  }
  return map;
}

async function listOriginals(git: Git): Promise<string[]> {
  const out = await git.raw(["for-each-ref", "--format=%(refname)", ORIGINAL_REF_PREFIX]);
  return (out ?? "")
    .split("\n")
    .filter(Boolean)
    .map((r) => r.slice(ORIGINAL_REF_PREFIX.length));
}

/** CSV with the SPEC §6 columns. */
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
