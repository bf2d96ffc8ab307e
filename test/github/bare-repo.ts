import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A real bare Git repository driven by plumbing (hash-object, update-index, write-tree,
 * commit-tree, update-ref, cat-file, merge-tree): the object store and refs behind the GitHub
 * simulator. Nothing here knows about GitHub.
 */

export const ZERO_SHA = "0".repeat(40);

export interface GitPerson {
  readonly name: string;
  readonly email: string;
  readonly date: Date;
}

export interface CommitInfo {
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: GitPerson;
  readonly committer: GitPerson;
  readonly message: string;
}

export interface TreeEntry {
  readonly mode: string;
  readonly type: "blob" | "tree" | "commit";
  readonly sha: string;
  readonly path: string;
  readonly size?: number;
}

/** One change in a tree: content (a new blob), an existing blob sha, or null to delete. */
export interface TreeChange {
  readonly path: string;
  readonly mode?: string;
  readonly content?: string;
  readonly sha?: string | null;
}

export interface DiffEntry {
  readonly status: "added" | "removed" | "modified" | "renamed" | "copied" | "changed";
  readonly path: string;
  readonly previousPath?: string;
  /** The blob at the new side (the old side for a removal). */
  readonly blob: string;
  readonly additions: number;
  readonly deletions: number;
}

export class BareRepo {
  readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** `git init --bare` in a new temporary directory. */
  static async create(defaultBranch = "main"): Promise<BareRepo> {
    const dir = mkdtempSync(join(tmpdir(), "interlock-ghsim-"));
    const repo = new BareRepo(dir);
    await repo.git(["init", "-q", "--bare", "-b", defaultBranch, dir]);
    return repo;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Runs git in the repository with no user or system configuration; resolves its exit code. */
  exec(
    args: readonly string[],
    opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = execFile(
        "git",
        ["--git-dir", this.dir, ...args],
        {
          env: {
            PATH: process.env.PATH,
            HOME: this.dir,
            GIT_CONFIG_NOSYSTEM: "1",
            GIT_CONFIG_GLOBAL: "/dev/null",
            LANG: "C",
            LC_ALL: "C",
            ...opts.env,
          },
          encoding: "utf8",
          maxBuffer: 64 * 1024 * 1024,
        },
        (err, stdout, stderr) => {
          const code = err ? (typeof err.code === "number" ? err.code : 128) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      else child.stdin!.end();
    });
  }

  /** Runs git; rejects when it fails unless `allowFail` (then resolves ""). */
  async git(
    args: readonly string[],
    opts: { input?: string | Buffer; env?: NodeJS.ProcessEnv; allowFail?: boolean } = {},
  ): Promise<string> {
    const r = await this.exec(args, opts);
    if (r.code === 0) return r.stdout;
    if (opts.allowFail) return "";
    throw new Error(`git ${args.join(" ")}: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  /** The object a revision names, or undefined. */
  async resolve(
    rev: string,
    type: "commit" | "tree" | "any" = "commit",
  ): Promise<string | undefined> {
    const spec = type === "any" ? rev : `${rev}^{${type}}`;
    const out = await this.git(["rev-parse", "--verify", "--quiet", spec], { allowFail: true });
    return out.trim() || undefined;
  }

  async objectType(sha: string): Promise<string | undefined> {
    return (await this.git(["cat-file", "-t", sha], { allowFail: true })).trim() || undefined;
  }

  async writeBlob(content: string | Buffer): Promise<string> {
    return (await this.git(["hash-object", "-w", "--stdin"], { input: content })).trim();
  }

  async readBlob(sha: string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      execFile(
        "git",
        ["--git-dir", this.dir, "cat-file", "blob", sha],
        { encoding: "buffer", maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH } },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      );
    });
  }

  /** A file at a revision: its blob and content; undefined if there is no such file. */
  async file(rev: string, path: string): Promise<{ sha: string; content: Buffer } | undefined> {
    const entry = (await this.lsTree(rev, { path })).find((e) => e.path === path);
    if (entry === undefined || entry.type !== "blob") return undefined;
    return { sha: entry.sha, content: await this.readBlob(entry.sha) };
  }

  /** Entries of a tree-ish (recursive: every blob and tree below it). */
  async lsTree(
    treeish: string,
    opts: { recursive?: boolean; path?: string } = {},
  ): Promise<TreeEntry[]> {
    const args = ["ls-tree", "-z", "-l", ...(opts.recursive ? ["-r", "-t"] : []), treeish];
    if (opts.path !== undefined) args.push("--", opts.path);
    const out = await this.git(args, { allowFail: true });
    return out
      .split("\0")
      .filter(Boolean)
      .map((line) => {
        const tab = line.indexOf("\t");
        const [mode, type, sha, size] = line.slice(0, tab).split(/\s+/);
        return {
          mode: mode!,
          type: type as TreeEntry["type"],
          sha: sha!,
          path: line.slice(tab + 1),
          ...(size && size !== "-" ? { size: Number(size) } : {}),
        };
      });
  }

  /** A new tree: `base` (a tree, or none) with `changes` applied, through a scratch index. */
  async buildTree(base: string | undefined, changes: readonly TreeChange[]): Promise<string> {
    const scratch = mkdtempSync(join(tmpdir(), "interlock-ghsim-index-"));
    const env = { GIT_INDEX_FILE: join(scratch, "index") };
    try {
      if (base !== undefined) await this.git(["read-tree", base], { env });
      else await this.git(["read-tree", "--empty"], { env });
      const lines: string[] = [];
      for (const c of changes) {
        if (c.sha === null) {
          lines.push(`0 ${ZERO_SHA}\t${c.path}`);
          continue;
        }
        const sha = c.content !== undefined ? await this.writeBlob(c.content) : c.sha!;
        lines.push(`${c.mode ?? "100644"} ${sha}\t${c.path}`);
      }
      if (lines.length > 0) {
        await this.git(["update-index", "--index-info"], { env, input: lines.join("\n") + "\n" });
      }
      return (await this.git(["write-tree"], { env })).trim();
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  async commitTree(c: {
    tree: string;
    parents: readonly string[];
    message: string;
    author: GitPerson;
    committer: GitPerson;
  }): Promise<string> {
    const date = (d: Date) => `${Math.floor(d.getTime() / 1000)} +0000`;
    const out = await this.git(["commit-tree", c.tree, ...c.parents.flatMap((p) => ["-p", p])], {
      input: c.message,
      env: {
        GIT_AUTHOR_NAME: c.author.name,
        GIT_AUTHOR_EMAIL: c.author.email,
        GIT_AUTHOR_DATE: date(c.author.date),
        GIT_COMMITTER_NAME: c.committer.name,
        GIT_COMMITTER_EMAIL: c.committer.email,
        GIT_COMMITTER_DATE: date(c.committer.date),
      },
    });
    return out.trim();
  }

  async commit(sha: string): Promise<CommitInfo | undefined> {
    const [info] = await this.log([sha, "-n", "1", "--no-walk"]);
    return info;
  }

  /** Commits of `git log <args>`, with their metadata. */
  async log(args: readonly string[]): Promise<CommitInfo[]> {
    const out = await this.git(
      [
        "log",
        "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B%x1e",
        ...args,
      ],
      { allowFail: true },
    );
    return out
      .split("\x1e")
      .map((s) => s.replace(/^\n/, ""))
      .filter(Boolean)
      .map((rec) => {
        const [sha, tree, parents, an, ae, at, cn, ce, ct, ...msg] = rec.split("\0");
        return {
          sha: sha!,
          tree: tree!,
          parents: parents ? parents.split(" ").filter(Boolean) : [],
          author: { name: an!, email: ae!, date: new Date(Number(at) * 1000) },
          committer: { name: cn!, email: ce!, date: new Date(Number(ct) * 1000) },
          message: msg.join("\0"),
        };
      });
  }

  /**
   * Moves `ref` to `sha` only if it currently is `old` (undefined: must not exist) — Git's
   * own compare-and-swap. False if it was something else.
   */
  async updateRef(ref: string, sha: string, old: string | undefined): Promise<boolean> {
    return (await this.exec(["update-ref", ref, sha, old ?? ZERO_SHA])).code === 0;
  }

  async deleteRef(ref: string): Promise<void> {
    await this.git(["update-ref", "-d", ref]);
  }

  /** Full ref names under `prefix`, with their objects. */
  async refs(prefix = "refs/"): Promise<{ ref: string; sha: string }[]> {
    const out = await this.git(["for-each-ref", "--format=%(refname) %(objectname)", prefix]);
    return out
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [ref, sha] = l.split(" ");
        return { ref: ref!, sha: sha! };
      });
  }

  async isAncestor(ancestor: string, of: string): Promise<boolean> {
    return (await this.exec(["merge-base", "--is-ancestor", ancestor, of])).code === 0;
  }

  async mergeBase(a: string, b: string): Promise<string | undefined> {
    return (await this.git(["merge-base", a, b], { allowFail: true })).trim() || undefined;
  }

  /** The tree of merging `theirs` into `ours`, or undefined on a conflict. */
  async mergeTree(ours: string, theirs: string): Promise<string | undefined> {
    // Exit 0: a clean merge, and the output is the tree; 1: conflicts.
    const r = await this.exec(["merge-tree", "--write-tree", "--no-messages", ours, theirs]);
    return r.code === 0 ? r.stdout.trim().split("\n")[0] : undefined;
  }

  /** Files changed from `from` to `to` (renames detected), with line counts. */
  async diff(from: string, to: string): Promise<DiffEntry[]> {
    const raw = (await this.git(["diff", "--raw", "-z", "-M", "--no-abbrev", from, to]))
      .split("\0")
      .filter((s) => s !== "");
    const numstat = (await this.git(["diff", "--numstat", "-z", "-M", from, to]))
      .split("\0")
      .filter((s) => s !== "");
    const counts = new Map<string, { additions: number; deletions: number }>();
    for (let i = 0; i < numstat.length; i++) {
      const [add, del, path] = numstat[i]!.split("\t");
      const n = { additions: Number(add) || 0, deletions: Number(del) || 0 };
      if (path === "") {
        // a rename: "<add>\t<del>\t\0<old>\0<new>"
        counts.set(numstat[i + 2]!, n);
        i += 2;
      } else counts.set(path!, n);
    }
    const out: DiffEntry[] = [];
    for (let i = 0; i < raw.length; i++) {
      const meta = raw[i]!.split(" ");
      const oldBlob = meta[2]!;
      const newBlob = meta[3]!;
      const code = meta[4]!;
      if (code.startsWith("R") || code.startsWith("C")) {
        const previousPath = raw[++i]!;
        const path = raw[++i]!;
        out.push({
          status: code.startsWith("R") ? "renamed" : "copied",
          path,
          previousPath,
          blob: newBlob,
          ...(counts.get(path) ?? { additions: 0, deletions: 0 }),
        });
        continue;
      }
      const path = raw[++i]!;
      const status =
        code === "A" ? "added" : code === "D" ? "removed" : code === "T" ? "changed" : "modified";
      out.push({
        status,
        path,
        blob: status === "removed" ? oldBlob : newBlob,
        ...(counts.get(path) ?? { additions: 0, deletions: 0 }),
      });
    }
    return out;
  }
}
