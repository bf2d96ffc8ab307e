import { CatFileBatch, parseCommit } from "../forge/local/cat-file.ts";
import { Git } from "../forge/local/git.ts";
import { REVIEW_TAG_PREFIX } from "../forge/local/reviews.ts";
import { idOfWithdrawalPath, isRequestId, WITHDRAWALS_DIR } from "../forge/refs.ts";
import type { ChangeStatus } from "../gate/snapshot.ts";
import type { EvidenceBlob, EvidenceChange, EvidenceCommit, EvidenceReader } from "./reader.ts";

/** Facts the audit already knows from its one pass over history, handed in to save work. */
export interface KnownHistory {
  /** Every commit of the default branch's first-parent history. */
  readonly mainCommits?: ReadonlySet<string>;
  /** Review tag objects per request id. */
  readonly reviewTags?: ReadonlyMap<string, readonly string[]>;
  /** Changes of a commit against its first parent ("<from> <to>" → changes). */
  readonly changes?: ReadonlyMap<string, readonly EvidenceChange[]>;
  /** Commits that added withdrawals/<id>.yaml on the default branch, oldest first, per id. */
  readonly withdrawals?: ReadonlyMap<string, readonly string[]>;
  /**
   * Files git reported in trees ("<tree id> <path>" → blob id), so that reading one does not
   * walk the large requests/<action>/ trees again; the blob itself is still read and checked.
   */
  readonly files?: ReadonlyMap<string, string>;
  /**
   * An incremental audit knows only the default branch's commits after a checkpoint
   * (mainCommits). Below them the first-parent history is the checkpointed commit's: commits
   * in `unreachable` (new since the checkpoint, not reachable from it) are certainly not on it,
   * and any other commit is looked up in git (rare: a proposal based before the checkpoint).
   */
  readonly below?: { readonly tip: string; readonly unreachable: ReadonlySet<string> };
  /** reviewTags lists only some requests: look the others up one by one. */
  readonly reviewTagsPartial?: boolean;
}

const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Commit objects kept parsed at most (each is read a few times, close together). */
const COMMIT_CACHE_LIMIT = 4096;

/**
 * The evidence reader over a local Git repository: committed objects only, through one
 * long-lived `git cat-file --batch`. The local forge (one request at a time) and the audit (the
 * whole history, with what it already knows) both use this one implementation.
 */
export class GitEvidenceReader implements EvidenceReader {
  readonly #git: Git;
  readonly #repoDir: string;
  readonly #branch: string;
  readonly #known: KnownHistory;
  #batch: CatFileBatch | undefined;
  readonly #ownsBatch: boolean;
  #main: Promise<ReadonlySet<string>> | undefined;
  #tags: Promise<ReadonlyMap<string, readonly string[]>> | undefined;
  #withdrawals: Promise<ReadonlyMap<string, readonly string[]>> | undefined;
  readonly #commits = new Map<string, EvidenceCommit>();

  constructor(
    repoDir: string,
    branch: string,
    opts: { batch?: CatFileBatch; known?: KnownHistory } = {},
  ) {
    this.#repoDir = repoDir;
    this.#git = new Git(repoDir);
    this.#branch = branch;
    this.#known = opts.known ?? {};
    this.#batch = opts.batch;
    this.#ownsBatch = opts.batch === undefined;
  }

  get #cat(): CatFileBatch {
    this.#batch ??= new CatFileBatch(this.#repoDir);
    return this.#batch;
  }

  /** Ends the cat-file process if this reader started it. */
  close(): void {
    if (this.#ownsBatch) this.#batch?.close();
    this.#batch = undefined;
  }

  async commit(rev: string): Promise<EvidenceCommit | undefined> {
    if (rev.includes(":")) return undefined;
    // Only an object id is cached: a ref name is resolved afresh on every read.
    const cached = this.#commits.get(rev);
    if (cached) return cached;
    const o = await this.#cat.read(rev);
    if (o === undefined || o.type !== "commit") return undefined;
    const commit = { oid: o.oid, raw: o.content, ...parseCommit(o.content) };
    if (this.#commits.size >= COMMIT_CACHE_LIMIT) this.#commits.clear();
    this.#commits.set(o.oid, commit);
    return commit;
  }

  async file(commit: string, path: string): Promise<EvidenceBlob | undefined> {
    const known = await this.#knownFile(commit, path);
    const o = await this.#cat.read(known ?? `${commit}:${path}`);
    return o && o.type === "blob" ? { oid: o.oid, content: o.content } : undefined;
  }

  async objectId(commit: string, path: string): Promise<string | undefined> {
    const known = await this.#knownFile(commit, path);
    if (known !== undefined) return known;
    // Directories are small tree objects; use it for directories, not for large blobs.
    return (await this.#cat.read(`${commit}:${path}`))?.oid;
  }

  /** The blob id git already reported for `path` in `commit`'s tree, if any. */
  async #knownFile(commit: string, path: string): Promise<string | undefined> {
    const files = this.#known.files;
    if (files === undefined || files.size === 0) return undefined;
    const c = OID.test(commit) ? await this.commit(commit) : undefined;
    return c ? files.get(`${c.tree} ${path}`) : undefined;
  }

  async onDefaultBranch(oid: string): Promise<boolean> {
    if (this.#known.mainCommits) {
      if (this.#known.mainCommits.has(oid)) return true;
      const below = this.#known.below;
      if (below === undefined || below.unreachable.has(oid)) return false;
      return this.#onFirstParentChain(below.tip, oid);
    }
    this.#main ??= this.#git
      .tryRaw(["rev-list", "--first-parent", `refs/heads/${this.#branch}`])
      .then((out) => new Set((out ?? "").split("\n").filter(Boolean)));
    return (await this.#main).has(oid);
  }

  readonly #firstParent = new Map<string, Promise<boolean>>();

  /** Whether `oid` is on `tip`'s first-parent history (git walks only from tip down to it). */
  #onFirstParentChain(tip: string, oid: string): Promise<boolean> {
    if (oid === tip) return Promise.resolve(true);
    // Parent ids come from commit objects a writer can craft: only an object id goes to git.
    if (!OID.test(oid)) return Promise.resolve(false);
    let answer = this.#firstParent.get(oid);
    if (answer === undefined) {
      answer = this.#git
        .tryRaw(["rev-list", "--first-parent", "--parents", tip, `^${oid}`, "--"])
        .then((out) => {
          const lines = (out ?? "").trim().split("\n").filter(Boolean);
          // The oldest commit listed has `oid` as its first parent exactly when it is on the chain.
          return out !== undefined && lines.at(-1)?.split(" ")[1] === oid;
        });
      this.#firstParent.set(oid, answer);
    }
    return answer;
  }

  async changes(from: string, to: string): Promise<readonly EvidenceChange[]> {
    const known = this.#known.changes?.get(`${from} ${to}`);
    if (known) return known;
    const out = await this.#git.raw(["diff", "--name-status", "-z", "--no-renames", from, to]);
    const parts = out.split("\0").filter(Boolean);
    const files: EvidenceChange[] = [];
    for (let i = 0; i + 1 < parts.length; i += 2) {
      files.push({ path: parts[i + 1]!, status: changeStatus(parts[i]!) });
    }
    return files;
  }

  async reviewRecords(id: string): Promise<readonly Buffer[]> {
    const tags = this.#known.reviewTags ?? (await (this.#tags ??= listReviewTags(this.#git)));
    let oids = tags.get(id);
    if (oids === undefined && this.#known.reviewTagsPartial) {
      oids = (await listReviewTags(this.#git, [id])).get(id);
    }
    const out: Buffer[] = [];
    for (const oid of oids ?? []) {
      const o = await this.#cat.read(oid);
      if (o?.type === "tag") out.push(o.content);
    }
    return out;
  }

  async withdrawalCommits(id: string): Promise<readonly EvidenceCommit[]> {
    const known =
      this.#known.withdrawals ?? (await (this.#withdrawals ??= this.#listWithdrawals()));
    const out: EvidenceCommit[] = [];
    for (const oid of known.get(id) ?? []) {
      const c = await this.commit(oid);
      if (c) out.push(c);
    }
    return out;
  }

  async #listWithdrawals(): Promise<ReadonlyMap<string, readonly string[]>> {
    return listWithdrawalCommits(this.#git, [`refs/heads/${this.#branch}`]);
  }
}

/**
 * request id → commits that added its withdrawal file, oldest first, from one git log over
 * `revs` (the default branch; or what is new since a checkpoint: `tip ^checkpoint`). Every
 * commit reachable counts, not only the first-parent line: a writer's merge can move the signed
 * withdrawal to a second parent (with no rewrite), and history simplification would follow
 * whichever parent the merge matches, so it is turned off.
 */
export async function listWithdrawalCommits(
  git: Git,
  revs: readonly string[],
): Promise<Map<string, string[]>> {
  const out = await git.tryRaw([
    "log",
    "--full-history",
    "--diff-filter=A",
    "--reverse",
    "--name-only",
    "--format=commit %H",
    ...revs,
    "--",
    WITHDRAWALS_DIR,
  ]);
  const map = new Map<string, string[]>();
  let commit = "";
  for (const line of (out ?? "").split("\n")) {
    if (line.startsWith("commit ")) commit = line.slice(7).trim();
    const id = idOfWithdrawalPath(line.trim());
    if (id && commit) map.set(id, [...(map.get(id) ?? []), commit]);
  }
  return map;
}

/** git's status letter as a change status. */
export function changeStatus(code: string): ChangeStatus {
  return code.startsWith("A") ? "added" : code.startsWith("D") ? "removed" : "modified";
}

/**
 * request id → review tag object ids, from one for-each-ref: of every request, or only of
 * `ids` (git seeks each one's prefix in packed-refs, so this does not grow with the history).
 */
export async function listReviewTags(
  git: Git,
  ids?: readonly string[],
): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  if (ids !== undefined && ids.length === 0) return map;
  const patterns =
    ids === undefined
      ? [`refs/tags/${REVIEW_TAG_PREFIX}`]
      : ids.filter(isRequestId).map((id) => `refs/tags/${REVIEW_TAG_PREFIX}${id}/`);
  let out = "";
  for (let i = 0; i < patterns.length; i += 1000) {
    const chunk = patterns.slice(i, i + 1000);
    if (chunk.length === 0) continue;
    out +=
      (await git.tryRaw([
        "for-each-ref",
        "--format=%(objectname) %(objecttype) %(refname)",
        ...chunk,
      ])) ?? "";
  }
  for (const line of out.split("\n")) {
    const [oid, type, ref] = line.split(" ");
    if (type !== "tag" || !ref) continue;
    const id = ref.slice(`refs/tags/${REVIEW_TAG_PREFIX}`.length).split("/")[0]!;
    const list = map.get(id) ?? [];
    list.push(oid!);
    map.set(id, list);
  }
  for (const id of ids ?? []) if (!map.has(id)) map.set(id, []);
  return map;
}
