import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InterlockError } from "../../errors.ts";
import type { GitIdentity } from "../refs.ts";

export type { GitIdentity } from "../refs.ts";

/**
 * A path that can never exist (/dev/null is not a directory): where git is told to look for
 * hooks, grafts, the shallow file and programs, so that it finds nothing there.
 */
const NOWHERE = "/dev/null/interlock-none";

/**
 * Configuration Interlock forces on every git process, at "command line" scope (passed as
 * GIT_CONFIG_COUNT/KEY/VALUE, which git ranks above the repository's own `.git/config` and
 * anything it includes). A writer of the approvals repository controls `.git/config`, its
 * includes and `.git/hooks`; none of what they configure there may run a program or change
 * what Interlock reads. Each entry is checked against real git in test/git-hardening.test.ts.
 */
const FORCED_CONFIG: readonly (readonly [string, string])[] = [
  // No hooks at all (reference-transaction runs on every update-ref, post-index-change on
  // every index write): hooks are looked up under a directory that cannot exist.
  ["core.hooksPath", NOWHERE],
  // No fsmonitor program asked which files changed.
  ["core.fsmonitor", "false"],
  // Replace refs are ignored (also GIT_NO_REPLACE_OBJECTS and --no-replace-objects).
  ["core.useReplaceRefs", "false"],
  // The commit-graph file is a cache of parents and root trees that nothing authenticates:
  // a forged one would change history as grafts do. Read commits from their objects.
  ["core.commitGraph", "false"],
  // No signing or verification program; Interlock signs and verifies in-process. Should git
  // try one anyway, it fails (the program does not exist) instead of running the writer's.
  ["commit.gpgSign", "false"],
  ["tag.gpgSign", "false"],
  ["tag.forceSignAnnotated", "false"],
  ["gpg.program", NOWHERE],
  ["gpg.openpgp.program", NOWHERE],
  ["gpg.ssh.program", NOWHERE],
  ["gpg.x509.program", NOWHERE],
  ["gpg.ssh.defaultKeyCommand", NOWHERE],
  // No external diff program (Interlock also passes --no-ext-diff --no-textconv).
  ["diff.external", NOWHERE],
  // No pager (also --no-pager and GIT_PAGER), editor, or auto-maintenance (pre-auto-gc hook).
  ["core.pager", "cat"],
  ["core.editor", NOWHERE],
  ["sequence.editor", NOWHERE],
  ["gc.auto", "0"],
  ["maintenance.auto", "false"],
  // No network at all: no transport, so no ssh command, credential helper, askpass or proxy,
  // and no lazy fetch of missing objects from a promisor remote.
  ["protocol.allow", "never"],
  ["core.sshCommand", NOWHERE],
  ["core.askPass", NOWHERE],
  ["core.gitProxy", NOWHERE],
  ["credential.helper", ""],
  // Nothing from the user's XDG files either.
  ["core.attributesFile", "/dev/null"],
  ["core.excludesFile", "/dev/null"],
  ["advice.graftFileDeprecated", "false"],
];

/**
 * Options before every git subcommand: no pager, no replace objects (grafts are ignored through
 * GIT_GRAFT_FILE, the shallow file through GIT_SHALLOW_FILE, both pointing nowhere).
 */
export const GIT_GLOBAL_ARGS: readonly string[] = ["--no-pager", "--no-replace-objects"];

/**
 * The environment every git process of Interlock's runs with, built from nothing (only PATH
 * and HOME are inherited): it never prompts, reads no system or global config, ignores
 * replace objects, grafts, the shallow file and system attributes, and forces FORCED_CONFIG
 * over whatever the repository configures.
 */
export function isolatedGitEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? tmpdir(),
    XDG_CONFIG_HOME: NOWHERE,
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_ATTR_NOSYSTEM: "1",
    GIT_NO_REPLACE_OBJECTS: "1",
    GIT_GRAFT_FILE: NOWHERE,
    GIT_SHALLOW_FILE: NOWHERE,
    GIT_OPTIONAL_LOCKS: "0",
    GIT_LITERAL_PATHSPECS: "1",
    GIT_PAGER: "cat",
    GIT_EDITOR: NOWHERE,
    GIT_CONFIG_COUNT: String(FORCED_CONFIG.length),
    LANG: "C",
    LC_ALL: "C",
  };
  FORCED_CONFIG.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

export const ZERO_OID = "0000000000000000000000000000000000000000";

/** What a git process did: its exit code and everything it printed. */
export interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Per-command options: extra environment (e.g. GIT_INDEX_FILE, identities) and stdin. */
export interface GitRunOptions {
  readonly env?: Record<string, string>;
  /** Text for git's stdin: commit messages and file contents never go through argv. */
  readonly input?: string | Buffer;
}

/**
 * Git for Interlock: a fixed repository, a hardened environment (isolatedGitEnv), node's
 * child_process directly (no fixed waits, real exit codes), text through stdin, and plumbing
 * only (no filters, hooks, textconv or signing programs), plus helpers that update refs with
 * compare-and-swap so that concurrent Interlock processes never lose each other's work.
 */
export class Git {
  readonly dir: string;
  readonly #baseEnv: Record<string, string>;

  constructor(dir: string) {
    this.dir = dir;
    this.#baseEnv = isolatedGitEnv();
  }

  /** Runs git and reports how it ended; only a failure to start git at all throws. */
  run(args: readonly string[], opts: GitRunOptions = {}): Promise<GitResult> {
    return new Promise((resolve, reject) => {
      const child = spawn("git", [...GIT_GLOBAL_ARGS, ...args], {
        cwd: this.dir,
        env: opts.env ? { ...this.#baseEnv, ...opts.env } : this.#baseEnv,
        stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on("data", (d: Buffer) => out.push(d));
      child.stderr!.on("data", (d: Buffer) => err.push(d));
      child.once("error", (e) =>
        reject(new InterlockError("git.failed", `cannot run git: ${e.message}`)),
      );
      child.once("close", (code, signal) =>
        resolve({
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        }),
      );
      if (opts.input !== undefined) {
        // git may exit before reading everything (a failing command): its exit code says why.
        child.stdin!.on("error", () => {});
        child.stdin!.end(opts.input);
      }
    });
  }

  /** Runs a git command and returns its stdout; a non-zero exit throws git.failed. */
  async raw(
    args: readonly string[],
    env?: Record<string, string>,
    input?: string | Buffer,
  ): Promise<string> {
    const r = await this.run(args, {
      ...(env ? { env } : {}),
      ...(input === undefined ? {} : { input }),
    });
    if (r.code !== 0) {
      const detail = r.stderr.trim().split("\n")[0] || `exit ${r.code}`;
      throw new InterlockError("git.failed", `git ${args[0] ?? ""} failed: ${detail}`);
    }
    return r.stdout;
  }

  /** Like raw, but a non-zero exit returns undefined (and only that: no output test). */
  async tryRaw(
    args: readonly string[],
    env?: Record<string, string>,
    input?: string | Buffer,
  ): Promise<string | undefined> {
    const r = await this.run(args, {
      ...(env ? { env } : {}),
      ...(input === undefined ? {} : { input }),
    });
    return r.code === 0 ? r.stdout : undefined;
  }

  async revParse(rev: string): Promise<string | undefined> {
    const out = await this.tryRaw([
      "rev-parse",
      "--verify",
      "--quiet",
      "--end-of-options",
      `${rev}^{commit}`,
    ]);
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

  /** Stores content as a blob, as is (no path, so no attributes and no filters). */
  async writeBlob(content: string | Buffer): Promise<string> {
    return (
      await this.raw(["hash-object", "-w", "--no-filters", "--stdin"], undefined, content)
    ).trim();
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
      const [blobs] = await Promise.all([
        Promise.all(opts.files.map((f) => this.writeBlob(f.content))),
        this.raw(opts.base ? ["read-tree", opts.base] : ["read-tree", "--empty"], env),
      ]);
      if (opts.files.length > 0) {
        const entries = opts.files.map((f, i) => `100644 ${blobs[i]!}\t${f.path}\0`).join("");
        await this.raw(["update-index", "-z", "--index-info"], env, entries);
      }
      const tree = (await this.raw(["write-tree"], env)).trim();
      return await this.commitTree(tree, opts);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** A commit of `tree` with the message given on stdin; never signed. */
  async commitTree(
    tree: string,
    opts: {
      parents: readonly string[];
      message: string;
      author: GitIdentity;
      committer: GitIdentity;
      date: Date;
    },
  ): Promise<string> {
    const date = `${Math.floor(opts.date.getTime() / 1000)} +0000`;
    const args = ["commit-tree", "--no-gpg-sign", tree, ...opts.parents.flatMap((p) => ["-p", p])];
    const env = {
      GIT_AUTHOR_NAME: opts.author.name,
      GIT_AUTHOR_EMAIL: opts.author.email,
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: opts.committer.name,
      GIT_COMMITTER_EMAIL: opts.committer.email,
      GIT_COMMITTER_DATE: date,
    };
    // As `commit-tree -m` does: the message ends with a line break.
    const message = opts.message.endsWith("\n") ? opts.message : `${opts.message}\n`;
    return (await this.raw(args, env, message)).trim();
  }

  /**
   * Sets ref to `next` only if it currently is `expected` (undefined: only if it does not
   * exist). Git takes a lock on the ref, so of several racing processes exactly one wins.
   */
  async compareAndSwap(ref: string, next: string, expected: string | undefined): Promise<boolean> {
    const r = await this.run(["update-ref", "--end-of-options", ref, next, expected ?? ZERO_OID]);
    return r.code === 0;
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
   * `branch` and has no conflicting local changes. Best effort: the refs are the truth, and
   * the sync is skipped when it cannot be done safely.
   *
   * Checking files out is the one step where git would run programs the repository names
   * (filter drivers from `.gitattributes`, fsmonitor) and honour `core.worktree` (writing
   * files wherever it points). So it runs against a private, empty git directory that borrows
   * only the repository's objects and index, with the work tree fixed to `dir`: the
   * repository's config, hooks and info/attributes are not read at all. Only a plain
   * repository whose `.git` directory is in `dir` is synced (not bare, linked or separate).
   * Returns why it skipped, if it did.
   */
  async syncWorktree(branch: string): Promise<string | undefined> {
    const dotGit = join(this.dir, ".git");
    if (!existsSync(dotGit) || !statSync(dotGit).isDirectory()) {
      return "not the top of a plain working tree";
    }
    const head = (await this.tryRaw(["symbolic-ref", "-q", "HEAD"]))?.trim();
    if (head !== `refs/heads/${branch}`) return `HEAD is not ${branch}`;
    const target = await this.revParse(`refs/heads/${branch}`);
    if (target === undefined) return `${branch} does not exist`;
    const privateDir = mkdtempSync(join(tmpdir(), "interlock-checkout-"));
    try {
      mkdirSync(join(privateDir, "refs"));
      writeFileSync(join(privateDir, "HEAD"), `ref: refs/heads/${branch}\n`);
      writeFileSync(
        join(privateDir, "config"),
        "[core]\n\trepositoryformatversion = 0\n\tbare = false\n",
      );
      const env = {
        GIT_DIR: privateDir,
        GIT_WORK_TREE: this.dir,
        GIT_OBJECT_DIRECTORY: join(dotGit, "objects"),
        GIT_INDEX_FILE: join(dotGit, "index"),
      };
      const indexTree = (await this.tryRaw(["write-tree"], env))?.trim();
      if (!indexTree) return "the index cannot be written as a tree (unmerged or missing objects)";
      const r = await this.run(["read-tree", "-m", "-u", indexTree, target], { env });
      return r.code === 0 ? undefined : `local changes conflict: ${r.stderr.trim().split("\n")[0]}`;
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
    }
  }
}
