import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import type { GitIdentity } from "../refs.ts";

export type { GitIdentity } from "../refs.ts";

/** Environment variables Interlock sets for git on purpose (simple-git guards the rest). */
const ALLOWED_ENV = [
  "GIT_TERMINAL_PROMPT",
  "GIT_CONFIG_NOSYSTEM",
  "GIT_CONFIG_GLOBAL",
  "GIT_INDEX_FILE",
  "GIT_AUTHOR_NAME",
  "GIT_AUTHOR_EMAIL",
  "GIT_AUTHOR_DATE",
  "GIT_COMMITTER_NAME",
  "GIT_COMMITTER_EMAIL",
  "GIT_COMMITTER_DATE",
];

/**
 * The environment every git process of Interlock's runs with: it never prompts and ignores the
 * user's and the system's git config, so aliases, hooks or signing settings cannot change what
 * Interlock reads or writes.
 */
export function isolatedGitEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    LANG: "C",
    LC_ALL: "C",
  };
}

export const ZERO_OID = "0000000000000000000000000000000000000000";

/**
 * Git for Interlock, through simple-git: a fixed repository, an environment that never
 * prompts and ignores the user's and system's git config (so a developer's aliases, hooks or
 * signing settings cannot change what Interlock writes), and plumbing helpers that update refs
 * with compare-and-swap so that concurrent Interlock processes never lose each other's work.
 */
export class Git {
  readonly dir: string;
  readonly #baseEnv: Record<string, string>;

  constructor(dir: string) {
    this.dir = dir;
    this.#baseEnv = isolatedGitEnv();
  }

  #git(env: Record<string, string> = {}): SimpleGit {
    return simpleGit({
      baseDir: this.dir,
      maxConcurrentProcesses: 4,
      trimmed: false,
      // We set GIT_CONFIG_GLOBAL ourselves, to /dev/null: isolation, not injection.
      unsafe: { allowUnsafeConfigPaths: true },
      allowEnvironment: [...ALLOWED_ENV],
    }).env({
      ...this.#baseEnv,
      ...env,
    });
  }

  /** Runs a git command and returns its stdout. */
  async raw(args: readonly string[], env?: Record<string, string>): Promise<string> {
    return this.#git(env).raw([...args]);
  }

  /**
   * Like raw, but a failure returns undefined. Note: simple-git resolves (with empty output) a
   * command that fails without printing to stderr, so callers test the output, not success.
   */
  async tryRaw(args: readonly string[], env?: Record<string, string>): Promise<string | undefined> {
    try {
      return await this.raw(args, env);
    } catch {
      return undefined;
    }
  }

  async revParse(rev: string): Promise<string | undefined> {
    const out = await this.tryRaw(["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
    return out?.trim() || undefined;
  }

  /** A file's content at a revision, or undefined if it is not there. */
  async readFile(rev: string, path: string): Promise<string | undefined> {
    return this.tryRaw(["cat-file", "blob", `${rev}:${path}`]);
  }

  /** Paths under prefix at rev (recursive). */
  async listFiles(rev: string, prefix: string): Promise<string[]> {
    const out = await this.tryRaw(["ls-tree", "-r", "--name-only", "-z", rev, "--", prefix]);
    return out ? out.split("\0").filter(Boolean) : [];
  }

  async writeBlob(content: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), "interlock-blob-"));
    try {
      const file = join(dir, "blob");
      writeFileSync(file, content);
      return (await this.raw(["hash-object", "-w", "--", file])).trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Makes a commit whose tree is `base`'s tree plus `files`, without touching the working tree
   * or the shared index (a private index file), so concurrent processes cannot interfere.
   */
  async commitFiles(opts: {
    base: string | undefined;
    parents: readonly string[];
    files: readonly { path: string; content: string }[];
    message: string;
    author: GitIdentity;
    committer: GitIdentity;
    date: Date;
  }): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), "interlock-index-"));
    const env = { GIT_INDEX_FILE: join(dir, "index") };
    try {
      if (opts.base) await this.raw(["read-tree", opts.base], env);
      else await this.raw(["read-tree", "--empty"], env);
      for (const f of opts.files) {
        const blob = await this.writeBlob(f.content);
        await this.raw(["update-index", "--add", "--cacheinfo", `100644,${blob},${f.path}`], env);
      }
      const tree = (await this.raw(["write-tree"], env)).trim();
      const date = `${Math.floor(opts.date.getTime() / 1000)} +0000`;
      const args = [
        "commit-tree",
        tree,
        ...opts.parents.flatMap((p) => ["-p", p]),
        "-m",
        opts.message,
      ];
      return (
        await this.raw(args, {
          GIT_AUTHOR_NAME: opts.author.name,
          GIT_AUTHOR_EMAIL: opts.author.email,
          GIT_AUTHOR_DATE: date,
          GIT_COMMITTER_NAME: opts.committer.name,
          GIT_COMMITTER_EMAIL: opts.committer.email,
          GIT_COMMITTER_DATE: date,
        })
      ).trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /**
   * Sets ref to `next` only if it currently is `expected` (undefined: only if it does not
   * exist). Git takes a lock on the ref, so of several racing processes exactly one wins.
   */
  async compareAndSwap(ref: string, next: string, expected: string | undefined): Promise<boolean> {
    const out = await this.tryRaw(["update-ref", ref, next, expected ?? ZERO_OID]);
    return out !== undefined;
  }

  /**
   * Adds a commit with `files` on top of `branch`, retrying on concurrent updates: each try
   * re-reads the branch and builds on what is there, so nothing another process wrote is lost.
   */
  async appendCommit(
    branch: string,
    files: readonly { path: string; content: string }[],
    message: string,
    who: { author: GitIdentity; committer: GitIdentity; date: Date },
  ): Promise<string> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const head = await this.revParse(`refs/heads/${branch}`);
      const commit = await this.commitFiles({
        base: head,
        parents: head ? [head] : [],
        files,
        message,
        ...who,
      });
      if (await this.compareAndSwap(`refs/heads/${branch}`, commit, head)) return commit;
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * Math.min(attempt + 1, 10)));
    }
    throw new Error(`could not update ${branch}: too many concurrent writers`);
  }

  /**
   * Brings a checked-out working tree up to date after refs moved underneath it, when it is on
   * `branch` and has no conflicting local changes. Best effort: the refs are the truth.
   */
  async syncWorktree(branch: string): Promise<void> {
    const isBare = (await this.tryRaw(["rev-parse", "--is-bare-repository"]))?.trim();
    if (isBare !== "false") return;
    const head = (await this.tryRaw(["symbolic-ref", "-q", "HEAD"]))?.trim();
    if (head !== `refs/heads/${branch}`) return;
    const indexTree = (await this.tryRaw(["write-tree"]))?.trim();
    if (!indexTree) return;
    await this.tryRaw(["read-tree", "-m", "-u", indexTree, `refs/heads/${branch}`]);
  }
}
