import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash } from "node:crypto";
import { InterlockError } from "../../errors.ts";
import { GIT_GLOBAL_ARGS, isolatedGitEnv } from "./git.ts";

/** An object read through `git cat-file --batch`. */
export interface GitObject {
  readonly oid: string;
  readonly type: "blob" | "tree" | "commit" | "tag";
  readonly content: Buffer;
}

/**
 * A long-lived `git cat-file --batch` process with pipelined requests: many lookups are
 * written ahead and answered in order. Used where one process per object would be far too
 * slow (the audit reads several objects per request over histories of 100,000 requests).
 * Hardened like every git process of Interlock's (GIT_GLOBAL_ARGS, isolatedGitEnv): replace
 * objects and grafts are ignored, and `--batch` applies no filters or textconv.
 *
 * git does not check, when it reads an object, that the content hashes to the object's name:
 * a writer of `.git/objects` can put other content under an existing id. So every object read
 * here is hashed again and a mismatch is an error (never the content), and readPath walks from
 * a commit through each tree by id, so the whole chain from the commit to the file is checked.
 */
export class CatFileBatch {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #waiting: { resolve: (o: GitObject | undefined) => void; reject: (e: Error) => void }[] =
    [];
  #buffer: Buffer = Buffer.alloc(0);
  #closed = false;
  readonly #unrefWhenIdle: boolean;

  /**
   * With `unrefWhenIdle`, the process keeps Node alive only while a read is waiting for its
   * answer, so an idle batch kept for later reads never delays the exit of the program.
   */
  constructor(repoDir: string, opts: { unrefWhenIdle?: boolean } = {}) {
    this.#proc = process
      .getBuiltinModule("node:child_process")
      .spawn("git", [...GIT_GLOBAL_ARGS, "cat-file", "--batch"], {
        cwd: repoDir,
        env: isolatedGitEnv(),
      });
    this.#unrefWhenIdle = opts.unrefWhenIdle ?? false;
    if (this.#unrefWhenIdle) this.#hold(false);
    this.#proc.stdout.on("data", (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#drain();
    });
    this.#proc.stdin.on("error", () => {}); // git exited: the close handler says so
    this.#proc.on("error", () => {}); // cannot start git: close follows and rejects
    this.#proc.on("close", () => {
      this.#closed = true;
      for (const w of this.#waiting.splice(0)) w.reject(new Error("git cat-file exited"));
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The object named by `rev` (an oid, "<commit>:<path>", a ref), or undefined if missing. */
  read(rev: string): Promise<GitObject | undefined> {
    if (this.#closed) return Promise.reject(new Error("git cat-file is closed"));
    if (/[\n\r]/.test(rev)) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      if (this.#unrefWhenIdle && this.#waiting.length === 0) this.#hold(true);
      this.#waiting.push({ resolve, reject });
      // Lookups asked for together go to git in one write (the audit asks for many at once).
      if (!this.#corked) {
        this.#corked = true;
        this.#proc.stdin.cork();
        process.nextTick(() => {
          this.#corked = false;
          this.#proc.stdin.uncork();
        });
      }
      this.#proc.stdin.write(`${rev}\n`);
    });
  }

  #corked = false;

  /** Whether the process and its pipes keep Node's event loop alive. */
  #hold(on: boolean): void {
    type Handle = { ref?: () => void; unref?: () => void };
    for (const h of [this.#proc, this.#proc.stdin, this.#proc.stdout, this.#proc.stderr]) {
      const handle = h as unknown as Handle;
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }

  async readText(rev: string): Promise<string | undefined> {
    return (await this.read(rev))?.content.toString("utf8");
  }

  /**
   * The blob at `path` in commit `rev`, reached through objects read by id and each checked
   * against its id (the commit, every tree on the way, the blob); undefined when the path is
   * not a file there. A forged object throws.
   */
  async readPath(rev: string, path: string): Promise<Buffer | undefined> {
    const commit = await this.read(`${rev}^{commit}`);
    if (commit === undefined) return undefined;
    let oid = /^tree ([0-9a-f]+)$/m.exec(commit.content.toString("latin1").split("\n\n")[0]!)?.[1];
    const parts = path.split("/");
    for (const [i, name] of parts.entries()) {
      const tree = oid === undefined ? undefined : await this.read(oid);
      if (tree?.type !== "tree") return undefined;
      const entry = treeEntry(tree.content, name, tree.oid.length / 2);
      if (entry === undefined) return undefined;
      if (i < parts.length - 1 !== (entry.mode === "40000")) return undefined;
      oid = entry.oid;
    }
    const blob = oid === undefined ? undefined : await this.read(oid);
    return blob?.type === "blob" ? blob.content : undefined;
  }

  close(): void {
    if (!this.#closed) this.#proc.stdin.end();
  }

  #drain(): void {
    for (;;) {
      const nl = this.#buffer.indexOf(10);
      if (nl < 0) return;
      const header = this.#buffer.subarray(0, nl).toString("utf8");
      if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
        this.#buffer = this.#buffer.subarray(nl + 1);
        this.#waiting.shift()?.resolve(undefined);
        if (this.#unrefWhenIdle && this.#waiting.length === 0) this.#hold(false);
        continue;
      }
      const [oid, type, sizeText] = header.split(" ");
      const size = Number(sizeText);
      if (this.#buffer.length < nl + 1 + size + 1) return; // wait for the rest
      const content = Buffer.from(this.#buffer.subarray(nl + 1, nl + 1 + size));
      this.#buffer = this.#buffer.subarray(nl + 1 + size + 1);
      const waiter = this.#waiting.shift();
      if (this.#unrefWhenIdle && this.#waiting.length === 0) this.#hold(false);
      if (objectId(type!, content, oid!.length) === oid) {
        waiter?.resolve({ oid: oid!, type: type as GitObject["type"], content });
      } else {
        waiter?.reject(
          new InterlockError(
            "git.failed",
            `the object ${oid} in the repository does not match its id: the object store was tampered with`,
          ),
        );
      }
    }
  }
}

/** The id git gives an object (sha1 or sha256, from the length of the id it is checked against). */
function objectId(type: string, content: Buffer, hexLength: number): string {
  return createHash(hexLength === 64 ? "sha256" : "sha1")
    .update(`${type} ${content.length}\0`, "latin1")
    .update(content)
    .digest("hex");
}

/** One entry of a raw tree object by name (bytes of the UTF-8 name), or undefined. */
function treeEntry(
  tree: Buffer,
  name: string,
  oidBytes: number,
): { mode: string; oid: string } | undefined {
  const wanted = Buffer.from(name, "utf8");
  let at = 0;
  while (at < tree.length) {
    const space = tree.indexOf(0x20, at);
    const nul = tree.indexOf(0, space);
    if (space < 0 || nul < 0) return undefined;
    if (tree.subarray(space + 1, nul).equals(wanted)) {
      return {
        mode: tree.toString("latin1", at, space),
        oid: tree.toString("hex", nul + 1, nul + 1 + oidBytes),
      };
    }
    at = nul + 1 + oidBytes;
  }
  return undefined;
}

/** The parts of a commit object the audit needs. */
export interface ParsedCommit {
  readonly tree: string;
  readonly parents: string[];
  readonly authorName: string;
  readonly authorEmail: string;
  readonly committerName: string;
  readonly committerEmail: string;
  readonly committedAt: Date;
  readonly message: string;
}

export function parseCommit(content: Buffer | string): ParsedCommit {
  const text = typeof content === "string" ? content : content.toString("utf8");
  const sep = text.indexOf("\n\n");
  const headers = (sep < 0 ? text : text.slice(0, sep)).split("\n");
  const parents: string[] = [];
  let tree = "";
  let author = ["", ""];
  let committer = ["", "", "0"];
  for (const h of headers) {
    if (h.startsWith("tree ")) tree = h.slice(5);
    else if (h.startsWith("parent ")) parents.push(h.slice(7));
    else if (h.startsWith("author ")) author = ident(h.slice(7));
    else if (h.startsWith("committer ")) committer = ident(h.slice(10));
  }
  return {
    tree,
    parents,
    authorName: author[0]!,
    authorEmail: author[1]!,
    committerName: committer[0]!,
    committerEmail: committer[1]!,
    committedAt: new Date(Number(committer[2]) * 1000),
    message: sep < 0 ? "" : text.slice(sep + 2),
  };
}

function ident(s: string): string[] {
  const m = /^(.*) <([^>]*)> (\d+) [+-]\d{4}$/.exec(s);
  return m ? [m[1]!, m[2]!, m[3]!] : ["", "", "0"];
}
