import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** One commit of the default branch's first-parent history, with the files it changed. */
export interface HistoryCommit {
  readonly oid: string;
  /** Status letter (A, M, D, …) and path, against the first parent. */
  readonly files: readonly { readonly status: string; readonly path: string }[];
}

/**
 * Streams the first-parent history of `ref`, oldest first, with each commit's changes against
 * its first parent (a merge shows what it brought into the branch). One git process, read
 * incrementally, so memory does not grow with history length on our side.
 */
export async function* firstParentHistory(
  repoDir: string,
  ref: string,
): AsyncGenerator<HistoryCommit> {
  const proc = spawn(
    "git",
    [
      "log",
      "--first-parent",
      "--reverse",
      "--diff-merges=first-parent",
      "--name-status",
      "-z",
      "--format=%x01%H",
      ref,
    ],
    {
      cwd: repoDir,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        LC_ALL: "C",
      },
    },
  );
  let pending = "";
  const lines = createInterface({ input: proc.stdout, crlfDelay: Infinity, terminal: false });
  // Records are separated by \x01; readline splits on \n, which only follows each header.
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
  const code: number = await new Promise((r) =>
    proc.exitCode !== null ? r(proc.exitCode) : proc.on("close", r),
  );
  if (code !== 0) throw new Error(`git log failed for ${ref} (exit ${code})`);
}

function parseRecord(record: string): HistoryCommit {
  const body = record.slice(1);
  const cut = body.indexOf("\0");
  const oid = body.slice(0, cut);
  const tokens = body
    .slice(cut + 1)
    .replace(/^\n/, "")
    .split("\0");
  const files: { status: string; path: string }[] = [];
  for (let i = 0; i + 1 < tokens.length; i += 2) {
    const status = tokens[i]!.trim();
    if (status === "") break;
    // Renames and copies carry two paths; Interlock disables rename detection, but be safe.
    if (status.startsWith("R") || status.startsWith("C")) {
      files.push({ status: "D", path: tokens[i + 1]! }, { status: "A", path: tokens[i + 2] ?? "" });
      i++;
    } else files.push({ status: status[0]!, path: tokens[i + 1]! });
  }
  return { oid, files };
}
