import type { TrustChain } from "../trust/chain.ts";
import type { ChangeStatus } from "../gate/snapshot.ts";

/**
 * What "the evidence at merge" reads, and nothing more: committed objects of the approvals
 * repository. Never the working tree, never "current main": every read names a commit.
 *
 * The executor and `gate`/`merge` read through a per-request implementation, the audit through
 * its streaming batch over the whole history; both give the same answers for the same
 * repository, so one rule (evidenceAtMerge) judges every request the same way wherever it runs.
 */
export interface EvidenceReader {
  /** A commit object by id or ref name, or undefined if there is none. */
  commit(rev: string): Promise<EvidenceCommit | undefined>;
  /** A file as committed in `commit` (object id and bytes), or undefined if absent. */
  file(commit: string, path: string): Promise<EvidenceBlob | undefined>;
  /** The object id of a file or directory as committed in `commit` (no content), if present. */
  objectId(commit: string, path: string): Promise<string | undefined>;
  /** Whether `oid` is on the default branch's first-parent history (a merged state of main). */
  onDefaultBranch(oid: string): Promise<boolean>;
  /** Files changed from `from` to `to` (tree diff, no rename detection). */
  changes(from: string, to: string): Promise<readonly EvidenceChange[]>;
  /** The raw signed review records (local forge: annotated tag objects) for a request. */
  reviewRecords(id: string): Promise<readonly Buffer[]>;
  /**
   * The commits reachable from the default branch (any parent) that added the withdrawal file of
   * a request (withdrawals/<id>.yaml), oldest first. Whether one counts is evidenceAtMerge's
   * decision (signed by whoever filed the request), never the reader's.
   */
  withdrawalCommits(id: string): Promise<readonly EvidenceCommit[]>;
}

export interface EvidenceCommit {
  readonly oid: string;
  /** The raw commit object (what a signature on the commit covers). */
  readonly raw: Buffer;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly authorName: string;
  readonly authorEmail: string;
  readonly committerName: string;
  readonly committerEmail: string;
  readonly committedAt: Date;
  readonly message: string;
}

export interface EvidenceBlob {
  readonly oid: string;
  readonly content: Buffer;
}

export interface EvidenceChange {
  readonly path: string;
  readonly status: ChangeStatus;
}

/**
 * A forge's way into the one evidence check: a reader of committed objects, and the merge
 * `interlock merge` would make for an open proposal. Close it when done.
 */
export interface EvidenceSource {
  readonly reader: EvidenceReader;
  /** The open proposal for `id` as the merge that would land it now; undefined if none. */
  prospective(id: string, at: Date): Promise<MergeUnderTest | undefined>;
  /** The verified trust chain of the default branch (pinned root, governance changes). */
  trust?(): Promise<TrustChain>;
  close(): void;
}

/**
 * One merge to judge: a merge that happened (from its merge commit), or the merge `interlock
 * merge` is about to make (the proposal's head onto the default branch's tip).
 */
export interface MergeUnderTest {
  readonly id: string;
  /** The request file, if known; else found among the changed files. */
  readonly path?: string;
  /** The proposal head that was reviewed. */
  readonly head: string;
  /** The default branch commit the merge lands on: every trust input is read here. */
  readonly base: string;
  /** The commit whose tree holds what landed (the merge commit; the head before merging). */
  readonly landed: string;
  /** What the merge brings into the default branch. */
  readonly changed: readonly EvidenceChange[];
  /** When it merged (or is merging): reviews after it do not count; the gate is judged then. */
  readonly at: Date;
}
