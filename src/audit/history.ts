import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { GIT_GLOBAL_ARGS, isolatedGitEnv } from "../forge/local/git.ts";

/** A file a commit changed against its first parent: status letter, path, new blob id. */
export interface ChangedEntry {
  readonly status: string;
  readonly path: string;
  /** The blob after the change (all zeros for a deletion). */
  readonly blob: string;
}

/** One commit of the default branch's first-parent history, with the files it changed. */
export interface HistoryCommit {
  readonly oid: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly committedAt: Date;
  readonly files: readonly ChangedEntry[];
}

/**
 * Streams the first-parent history of `ref`, oldest first, with each commit's changes against
 * its first parent (a merge shows what it brought into the branch) and the blob ids involved.
 * One git process, read incrementally; git computes the tree diffs.
 */
export async function* firstParentHistory(
  repoDir: string,
  ref: string | readonly string[],
): AsyncGenerator<HistoryCommit> {
  const revs = typeof ref === "string" ? [ref] : ref;
  const proc = spawn(
    "git",
    [
      ...GIT_GLOBAL_ARGS,
      // Consecutive commits diff consecutive versions of the large requests/<action>/ and
      // results/ trees, stored as deltas of each other: git's default 96 MiB cache of delta
      // bases thrashes on trees of several MiB (8 s instead of 3 s for 110 commits at 100,000
      // requests). A bound on the git process's memory, not the audit's.
      "-c",
      "core.deltaBaseCacheLimit=512m",
      "log",
      "--no-ext-diff",
      "--no-textconv",
      "--first-parent",
      "--reverse",
      "--diff-merges=first-parent",
      "--raw",
      "--no-abbrev",
      "--no-renames",
      "-z",
      "--format=%x01%H %T %ct %P",
      ...revs,
      "--",
    ],
    {
      cwd: repoDir,
      // glibc returns each multi-MiB tree buffer to the kernel when it is freed, and faults it
      // in again for the next commit: keep such buffers in the heap instead.
      env: { ...isolatedGitEnv(), MALLOC_MMAP_THRESHOLD_: String(64 << 20) },
    },
  );
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => proc.on("close", (code) => resolve(code ?? 1)));
  let pending = "";
  const lines = createInterface({ input: proc.stdout, crlfDelay: Infinity, terminal: false });
  let done = false;
  try {
    // Records start with \x01; readline splits on \n, which only follows each header.
    for await (const line of lines) {
      pending += pending === "" ? line : `\n${line}`;
      let cut = pending.indexOf("\x01", 1);
      while (cut > 0) {
        yield parseRecord(pending.slice(0, cut));
        pending = pending.slice(cut);
        cut = pending.indexOf("\x01", 1);
      }
    }
    if (pending.startsWith("\x01")) yield parseRecord(pending);
    done = true;
  } finally {
    // A consumer that stops early must not leave git running.
    if (!done) proc.kill();
  }
  const code = await exited;
  if (code !== 0)
    throw new Error(`git log failed for ${revs.join(" ")}: ${stderr.trim() || `exit ${code}`}`);
}

function parseRecord(record: string): HistoryCommit {
  const body = record.slice(1);
  const cut = body.indexOf("\0");
  const [oid, tree, ct, ...parents] = (cut < 0 ? body : body.slice(0, cut)).trim().split(" ");
  const files: ChangedEntry[] = [];
  if (cut >= 0) {
    // ":<old mode> <new mode> <old blob> <new blob> <status>\0<path>\0" …
    const tokens = body
      .slice(cut + 1)
      .replace(/^\n/, "")
      .split("\0");
    for (let i = 0; i + 1 < tokens.length; i += 2) {
      const meta = tokens[i]!.trim();
      if (!meta.startsWith(":")) break;
      const parts = meta.slice(1).split(" ");
      files.push({ status: (parts[4] ?? "?")[0]!, path: tokens[i + 1]!, blob: parts[3] ?? "" });
    }
  }
  return {
    oid: oid!,
    tree: tree!,
    parents: parents.filter(Boolean),
    committedAt: new Date(Number(ct) * 1000),
    files,
  };
}
