import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { InterlockError } from "../../errors.ts";
import type { GitIdentity } from "../refs.ts";
import { CatFileBatch } from "./cat-file.ts";

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
 * node:child_process and node:zlib are taken at first use (process.getBuiltinModule), not at
 * import: a command that starts no git, such as `evaluate` outside a repository, never loads them.
 */
export class Git {
  readonly dir: string;
  readonly #baseEnv: Record<string, string>;

  constructor(dir: string) {
    this.dir = dir;
    this.#baseEnv = isolatedGitEnv();
  }

  /** Runs git and reports how it ended; only a failure to start git at all throws. */
  async run(args: readonly string[], opts: GitRunOptions = {}): Promise<GitResult> {
    const r = await this.#spawn(args, opts);
    return { code: r.code, stdout: r.stdout.toString("utf8"), stderr: r.stderr };
  }

  #spawn(
    args: readonly string[],
    opts: GitRunOptions,
  ): Promise<{ code: number; stdout: Buffer; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = process
        .getBuiltinModule("node:child_process")
        .spawn("git", [...GIT_GLOBAL_ARGS, ...args], {
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
          stdout: Buffer.concat(out),
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

  /** The commit `rev` names (its object checked against its id), or undefined. */
  async revParse(rev: string): Promise<string | undefined> {
    return (await this.#reading((b) => b.read(`${rev}^{commit}`)))?.oid;
  }

  #batch: CatFileBatch | undefined;
  #idle: NodeJS.Timeout | undefined;
  #busy = 0;

  /**
   * Reads through one `cat-file --batch` kept while reads follow each other (refs are resolved
   * afresh on every read), closed after 100 ms without any; it never keeps Node alive idle.
   */
  async #reading<T>(fn: (batch: CatFileBatch) => Promise<T>): Promise<T> {
    if (this.#batch === undefined || this.#batch.closed) {
      this.#batch = new CatFileBatch(this.dir, { unrefWhenIdle: true });
    }
    const batch = this.#batch;
    clearTimeout(this.#idle);
    this.#busy++;
    try {
      return await fn(batch);
    } finally {
      if (--this.#busy === 0) {
        this.#idle = setTimeout(() => {
          if (this.#batch === batch && this.#busy === 0) {
            batch.close();
            this.#batch = undefined;
          }
        }, 100);
        this.#idle.unref();
      }
    }
  }

  /**
   * A file's content at a revision, or undefined if it is not there. Every object from the
   * commit to the file is checked against its id (git itself does not): a forged object in
   * the object store throws instead of being read.
   */
  async readFile(rev: string, path: string): Promise<string | undefined> {
    return (await this.#reading((b) => b.readPath(rev, path)))?.toString("utf8");
  }

  /** Paths under prefix at rev (recursive). */
  async listFiles(rev: string, prefix: string): Promise<string[]> {
    const out = await this.tryRaw(["ls-tree", "-r", "--name-only", "-z", rev, "--", prefix]);
    return out ? out.split("\0").filter(Boolean) : [];
  }

  /** Stores content as a blob, as is (no attributes, no filters). */
  async writeBlob(content: string | Buffer): Promise<string> {
    const store = await this.#objectStore();
    return writeObject(store, "blob", typeof content === "string" ? Buffer.from(content) : content);
  }

  /**
   * Makes a commit whose tree is `base`'s tree plus `files`. The objects are written
   * in-process (git's loose object format): one git process reads the trees on the way to each
   * file, and nothing touches the working tree or an index, so concurrent processes cannot
   * interfere and no filter, hook or signing program of the repository's can run.
   */
  async commitFiles(opts: {
    base: string | undefined;
    parents: readonly string[];
    files: readonly { path: string; content: string }[];
    message: string;
    author: GitIdentity;
    committer: GitIdentity;
    date: Date;
    /** Signs the commit object (returns it with its signature header), in-process. */
    sign?: (unsigned: string) => string;
  }): Promise<string> {
    const store = await this.#objectStore();
    const files = opts.files.map((f) => ({ parts: pathParts(f.path), content: f.content }));
    const dirs = new Set<string>([""]);
    for (const f of files) {
      for (let i = 1; i < f.parts.length; i++) dirs.add(f.parts.slice(0, i).join("/"));
    }
    const trees = await this.#readTrees(opts.base, [...dirs], store);
    for (const f of files) {
      const dir = f.parts.slice(0, -1).join("/");
      const blob = writeObject(store, "blob", Buffer.from(f.content));
      setEntry(trees.get(dir)!, f.parts[f.parts.length - 1]!, BLOB_MODE, blob, f.parts.join("/"));
    }
    // Bottom up: each directory's new tree goes into its parent.
    const deepestFirst = [...dirs].sort((a, b) => depth(b) - depth(a));
    let root = "";
    for (const dir of deepestFirst) {
      const oid = writeObject(store, "tree", serializeTree(trees.get(dir)!, store));
      if (dir === "") root = oid;
      else {
        const cut = dir.lastIndexOf("/");
        const parent = cut < 0 ? "" : dir.slice(0, cut);
        setEntry(trees.get(parent)!, dir.slice(cut + 1), TREE_MODE, oid, dir);
      }
    }
    return this.commitTree(root, opts);
  }

  /**
   * A commit of `tree`, written in-process. No signing program runs: a commit is signed only
   * by `sign`, Interlock's own in-process signer, over the exact object text.
   */
  async commitTree(
    tree: string,
    opts: {
      parents: readonly string[];
      message: string;
      author: GitIdentity;
      committer: GitIdentity;
      date: Date;
      sign?: (unsigned: string) => string;
    },
  ): Promise<string> {
    const store = await this.#objectStore();
    const when = `${Math.floor(opts.date.getTime() / 1000)} +0000`;
    // As `commit-tree -m` did: the message ends with a line break.
    const message = opts.message.endsWith("\n") ? opts.message : `${opts.message}\n`;
    const text =
      `tree ${checkOid(tree, store)}\n` +
      opts.parents.map((p) => `parent ${checkOid(p, store)}\n`).join("") +
      `author ${ident(opts.author)} ${when}\n` +
      `committer ${ident(opts.committer)} ${when}\n\n` +
      message;
    const object = opts.sign ? opts.sign(text) : text;
    return writeObject(store, "commit", Buffer.from(object, "utf8"));
  }

  #store: Promise<ObjectStore> | undefined;

  /** Where loose objects go and how they are named (asked once per Git). */
  #objectStore(): Promise<ObjectStore> {
    this.#store ??= (async () => {
      const out = await this.raw(["rev-parse", "--show-object-format", "--git-path", "objects"]);
      const [format, path] = out.split("\n");
      if (format !== "sha1" && format !== "sha256") {
        throw new InterlockError("git.failed", `unsupported object format ${String(format)}`);
      }
      return { dir: resolve(this.dir, path!), hash: format, oidBytes: format === "sha1" ? 20 : 32 };
    })();
    this.#store.catch(() => (this.#store = undefined));
    return this.#store;
  }

  /** The entries of each directory at `base` (empty where it does not exist), in one process. */
  async #readTrees(
    base: string | undefined,
    dirs: readonly string[],
    store: ObjectStore,
  ): Promise<Map<string, TreeEntry[]>> {
    const trees = new Map<string, TreeEntry[]>(dirs.map((d) => [d, []]));
    if (base === undefined) return trees;
    checkOid(base, store);
    const objects = await this.#reading((b) =>
      Promise.all(dirs.map((d) => b.read(d === "" ? `${base}^{tree}` : `${base}:${d}`))),
    );
    for (const [i, dir] of dirs.entries()) {
      const o = objects[i];
      if (o === undefined) {
        if (dir === "") throw new InterlockError("git.failed", `commit ${base} has no tree`);
        continue;
      }
      if (o.type !== "tree") {
        throw new InterlockError("git.failed", `${dir} is a ${o.type} at ${base}, not a directory`);
      }
      trees.set(dir, parseTree(o.content, store));
    }
    return trees;
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
   * Creates every ref in one transaction, only if none of them exists: all or nothing, in
   * one git process. False when any exists already (or git refuses the update).
   */
  async createRefs(refs: readonly { ref: string; oid: string }[]): Promise<boolean> {
    if (refs.some((r) => /[\s\0]/.test(r.ref) || /[^0-9a-f]/.test(r.oid))) return false;
    const input = refs.map((r) => `create ${r.ref} ${r.oid}\n`).join("");
    this.#refs ??= new RefTransactions(this.dir, this.#baseEnv);
    return this.#refs.run(input);
  }

  #refs: RefTransactions | undefined;

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

/** Where loose objects are written, and the repository's hash function. */
interface ObjectStore {
  readonly dir: string;
  readonly hash: "sha1" | "sha256";
  readonly oidBytes: number;
}

/** One tree entry; the name is kept as latin1 so that any bytes git stored survive. */
interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

const BLOB_MODE = "100644";
const TREE_MODE = "40000";

/**
 * Writes an object as git does (zlib-deflated "<type> <size>\0<body>" at objects/xx/yyyy…,
 * via a temporary file and a rename, read-only). An object that exists already is kept.
 */
function writeObject(store: ObjectStore, type: string, body: Buffer): string {
  const header = Buffer.from(`${type} ${body.length}\0`, "latin1");
  const oid = createHash(store.hash).update(header).update(body).digest("hex");
  const dir = join(store.dir, oid.slice(0, 2));
  const file = join(dir, oid.slice(2));
  if (existsSync(file)) return oid;
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `tmp_obj_interlock_${randomBytes(6).toString("hex")}`);
  writeFileSync(
    tmp,
    process.getBuiltinModule("node:zlib").deflateSync(Buffer.concat([header, body])),
    { mode: 0o444, flag: "wx" },
  );
  renameSync(tmp, file);
  return oid;
}

function parseTree(content: Buffer, store: ObjectStore): TreeEntry[] {
  const entries: TreeEntry[] = [];
  let at = 0;
  while (at < content.length) {
    const space = content.indexOf(0x20, at);
    const nul = content.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 1 + store.oidBytes > content.length) {
      throw new InterlockError("git.failed", "a tree object is malformed");
    }
    entries.push({
      mode: content.toString("latin1", at, space),
      name: content.toString("latin1", space + 1, nul),
      oid: content.toString("hex", nul + 1, nul + 1 + store.oidBytes),
    });
    at = nul + 1 + store.oidBytes;
  }
  return entries;
}

/** Entries in git's order: by bytes, a directory's name compared as if it ended with "/". */
function serializeTree(entries: TreeEntry[], store: ObjectStore): Buffer {
  const key = (e: TreeEntry) => (e.mode === TREE_MODE ? `${e.name}/` : e.name);
  const sorted = [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return Buffer.concat(
    sorted.flatMap((e) => [
      Buffer.from(`${e.mode} ${e.name}\0`, "latin1"),
      Buffer.from(checkOid(e.oid, store), "hex"),
    ]),
  );
}

/** Sets `name` in a directory; a file never replaces a directory or the other way round. */
function setEntry(entries: TreeEntry[], name: string, mode: string, oid: string, path: string) {
  const raw = Buffer.from(name, "utf8").toString("latin1");
  const existing = entries.find((e) => e.name === raw);
  if (existing === undefined) entries.push({ mode, name: raw, oid });
  else if ((existing.mode === TREE_MODE) !== (mode === TREE_MODE)) {
    throw new InterlockError(
      "git.failed",
      `${path} exists as a ${existing.mode === TREE_MODE ? "directory" : "file"}`,
    );
  } else {
    existing.mode = mode;
    existing.oid = oid;
  }
}

/** A repository path Interlock may write: relative, no empty, ".", ".." or ".git" parts. */
function pathParts(path: string): string[] {
  const parts = path.split("/");
  for (const p of parts) {
    if (p === "" || p === "." || p === ".." || p.toLowerCase() === ".git" || /[\0\n]/.test(p)) {
      throw new InterlockError("git.failed", `cannot write the path ${JSON.stringify(path)}`);
    }
  }
  return parts;
}

const depth = (dir: string) => (dir === "" ? 0 : dir.split("/").length);

function checkOid(oid: string, store: ObjectStore): string {
  if (oid.length !== store.oidBytes * 2 || !/^[0-9a-f]+$/.test(oid)) {
    throw new InterlockError("git.failed", `not an object id: ${JSON.stringify(oid)}`);
  }
  return oid;
}

/**
 * "Name <email>" as git's commit-tree writes it: characters that end an identity line (line
 * breaks, "<", ">") are dropped, and so is "crud" (spaces, control characters and .,:;"'\\
 * punctuation git strips) at either end; an empty name is refused, as git refuses it.
 */
function ident(who: GitIdentity): string {
  const crud = (c: string) => c.charCodeAt(0) <= 32 || ",:;<>\"\\'.".includes(c);
  const clean = (s: string) => {
    let start = 0;
    let end = s.length;
    while (start < end && crud(s[start]!)) start++;
    while (end > start && crud(s[end - 1]!)) end--;
    return s
      .slice(start, end)
      .replace(/[\n<>]/g, "")
      .replaceAll("\0", "");
  };
  const name = clean(who.name);
  if (name === "")
    throw new InterlockError(
      "git.failed",
      `the identity name ${JSON.stringify(who.name)} is empty`,
    );
  return `${name} <${clean(who.email)}>`;
}

/**
 * One long-lived `git update-ref --stdin` (hardened like every git process here) that runs
 * transactions one after another: `start`, the updates, `prepare` (git locks every ref and
 * checks it), `commit`. A transaction git refuses ends the process (git dies on the failed
 * `prepare`); the next one starts a new process. Saves a process start per filed request.
 * The process keeps Node alive only while a transaction waits, and ends when idle.
 */
class RefTransactions {
  #proc: ChildProcessWithoutNullStreams | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #idle: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    readonly env: Record<string, string>,
  ) {}

  /** Runs one transaction; true when git committed it. */
  run(updates: string): Promise<boolean> {
    const next = this.#chain.then(() => this.#once(updates));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  #start(): ChildProcessWithoutNullStreams {
    if (this.#proc && this.#proc.exitCode === null && this.#proc.signalCode === null) {
      return this.#proc;
    }
    const proc = process
      .getBuiltinModule("node:child_process")
      .spawn("git", [...GIT_GLOBAL_ARGS, "update-ref", "--stdin"], {
        cwd: this.dir,
        env: this.env,
      });
    proc.stdin.on("error", () => {}); // git exited: the close handler says so
    proc.on("error", () => {});
    proc.stderr.resume();
    this.#proc = proc;
    return proc;
  }

  #hold(proc: ChildProcessWithoutNullStreams, on: boolean): void {
    type Handle = { ref?: () => void; unref?: () => void };
    for (const h of [proc, proc.stdin, proc.stdout, proc.stderr]) {
      const handle = h as unknown as Handle;
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }

  #once(updates: string): Promise<boolean> {
    clearTimeout(this.#idle);
    const proc = this.#start();
    this.#hold(proc, true);
    return new Promise<boolean>((resolve) => {
      let out = "";
      const finish = (ok: boolean) => {
        proc.stdout.off("data", onData);
        proc.off("close", onClose);
        if (proc === this.#proc) {
          this.#hold(proc, false);
          this.#idle = setTimeout(() => {
            // The next transaction starts a new process rather than write to this ending one.
            if (this.#proc === proc) this.#proc = undefined;
            proc.stdin.end();
          }, 1000);
          this.#idle.unref();
        }
        resolve(ok);
      };
      const onData = (chunk: Buffer) => {
        out += chunk.toString("utf8");
        if (out.includes("commit: ok\n")) finish(true);
      };
      const onClose = () => {
        if (proc === this.#proc) this.#proc = undefined;
        finish(false);
      };
      proc.stdout.on("data", onData);
      proc.once("close", onClose);
      proc.stdin.write(`start\n${updates}prepare\ncommit\n`);
    });
  }
}
