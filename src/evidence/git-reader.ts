import { CatFileBatch, parseCommit } from "../forge/local/cat-file.ts";
import { Git } from "../forge/local/git.ts";
import { REVIEW_TAG_PREFIX } from "../forge/local/reviews.ts";
import { WITHDRAWALS_DIR } from "../forge/refs.ts";
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
}

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
    const o = await this.#cat.read(rev);
    if (o === undefined || o.type !== "commit") return undefined;
    return { oid: o.oid, raw: o.content, ...parseCommit(o.content) };
  }

  async file(commit: string, path: string): Promise<EvidenceBlob | undefined> {
    const o = await this.#cat.read(`${commit}:${path}`);
    return o && o.type === "blob" ? { oid: o.oid, content: o.content } : undefined;
  }

  async objectId(commit: string, path: string): Promise<string | undefined> {
    // Directories are small tree objects; use it for directories, not for large blobs.
    return (await this.#cat.read(`${commit}:${path}`))?.oid;
  }

  async onDefaultBranch(oid: string): Promise<boolean> {
    if (this.#known.mainCommits) return this.#known.mainCommits.has(oid);
    this.#main ??= this.#git
      .tryRaw(["rev-list", "--first-parent", `refs/heads/${this.#branch}`])
      .then((out) => new Set((out ?? "").split("\n").filter(Boolean)));
    return (await this.#main).has(oid);
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
    const out: Buffer[] = [];
    for (const oid of tags.get(id) ?? []) {
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

  /** request id → commits that added its withdrawal file, oldest first, from one git log. */
  async #listWithdrawals(): Promise<ReadonlyMap<string, readonly string[]>> {
    const out = await this.#git.tryRaw([
      "log",
      "--first-parent",
      "--diff-filter=A",
      "--reverse",
      "--name-only",
      "--format=commit %H",
      `refs/heads/${this.#branch}`,
      "--",
      WITHDRAWALS_DIR,
    ]);
    const map = new Map<string, string[]>();
    let commit = "";
    for (const line of (out ?? "").split("\n")) {
      if (line.startsWith("commit ")) commit = line.slice(7).trim();
      const m = WITHDRAWAL_FILE.exec(line.trim());
      if (m && commit) map.set(m[1]!, [...(map.get(m[1]!) ?? []), commit]);
    }
    return map;
  }
}

const WITHDRAWAL_FILE = /^withdrawals\/([0-9A-HJKMNP-TV-Z]{26})\.yaml$/;

/** git's status letter as a change status. */
export function changeStatus(code: string): ChangeStatus {
  return code.startsWith("A") ? "added" : code.startsWith("D") ? "removed" : "modified";
}

/** request id → review tag object ids, from one for-each-ref. */
export async function listReviewTags(git: Git): Promise<Map<string, string[]>> {
  const out = await git.tryRaw([
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
