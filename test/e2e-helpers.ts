import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import { run, type RunResult } from "./cli-io.ts";
import { tempDir } from "./helpers.ts";

/**
 * Helpers for the end-to-end lifecycle tests: a real approvals repository made by
 * `interlock init`, the CLI run in-process with a controlled clock, and plain git (what an
 * admin or an attacker would type) run through execFileSync.
 */

export const ROOT = join(import.meta.dirname, "..");
export const EXAMPLES = join(ROOT, "examples");

/** A person as git sees them when they commit by hand. */
export interface Who {
  readonly name: string;
  readonly email: string;
}

export const MALLORY: Who = { name: "Mallory", email: "mallory@example.test" };
export const DANA: Who = { name: "Dana Example", email: "dana@acme.example" };
export const SAM: Who = { name: "Sam Example", email: "sam@acme.example" };

/** A monotonic test clock: every step of one story happens a little later than the last. */
export class Clock {
  #t: number;
  constructor(start = "2026-11-24T10:00:00.000Z") {
    this.#t = new Date(start).getTime();
  }
  /** The current time, without advancing. */
  get now(): Date {
    return new Date(this.#t);
  }
  /** Advances by `seconds` (default 1) and returns the new time. */
  tick(seconds = 1): Date {
    this.#t += seconds * 1000;
    return new Date(this.#t);
  }
}

/** Environment for plain git: no user or system config, a fixed identity and date. */
export function gitEnv(who: Who = MALLORY, date?: Date): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? tmpdir(),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_TERMINAL_PROMPT: "0",
    LANG: "C",
    LC_ALL: "C",
    GIT_AUTHOR_NAME: who.name,
    GIT_AUTHOR_EMAIL: who.email,
    GIT_COMMITTER_NAME: who.name,
    GIT_COMMITTER_EMAIL: who.email,
  };
  if (date) {
    const d = `${Math.floor(date.getTime() / 1000)} +0000`;
    env.GIT_AUTHOR_DATE = d;
    env.GIT_COMMITTER_DATE = d;
  }
  return env;
}

/** Runs `git -C <dir> <args>` and returns its trimmed stdout. Throws on failure. */
export function git(
  dir: string,
  args: readonly string[],
  opts: { who?: Who; date?: Date; env?: NodeJS.ProcessEnv; input?: string } = {},
): string {
  return execFileSync("git", ["-C", dir, ...args], {
    env: { ...gitEnv(opts.who, opts.date), ...opts.env },
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
    ...(opts.input === undefined ? {} : { input: opts.input }),
  }).trim();
}

/**
 * Adds a commit to `ref` (e.g. "refs/heads/interlock/<id>") with plain git plumbing, without
 * touching the working tree: `changes` maps paths to new content (null deletes the file).
 * Returns the new commit.
 */
export function commitOnRef(
  dir: string,
  ref: string,
  changes: Record<string, string | null>,
  opts: { who?: Who; date?: Date; message?: string } = {},
): string {
  const parent = git(dir, ["rev-parse", "--verify", `${ref}^{commit}`]);
  const scratch = mkdtempSync(join(tmpdir(), "interlock-e2e-index-"));
  const env = { GIT_INDEX_FILE: join(scratch, "index") };
  try {
    git(dir, ["read-tree", parent], { env });
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) {
        git(dir, ["update-index", "--force-remove", "--", path], { env });
      } else {
        const blob = git(dir, ["hash-object", "-w", "--stdin"], { input: content });
        git(dir, ["update-index", "--add", "--cacheinfo", `100644,${blob},${path}`], { env });
      }
    }
    const tree = git(dir, ["write-tree"], { env });
    const commit = git(
      dir,
      ["commit-tree", tree, "-p", parent, "-m", opts.message ?? "A small change"],
      { who: opts.who, date: opts.date },
    );
    git(dir, ["update-ref", ref, commit, parent]);
    return commit;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A file's content at a revision, or undefined. */
export function show(dir: string, rev: string, path: string): string | undefined {
  try {
    return execFileSync("git", ["-C", dir, "cat-file", "blob", `${rev}:${path}`], {
      env: gitEnv(),
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
  } catch {
    return undefined;
  }
}

/** Files at `rev` that contain `text` (fixed string); none: an empty list. */
export function grep(dir: string, text: string, rev: string): string[] {
  try {
    return git(dir, ["grep", "-l", "-F", "-e", text, rev]).split("\n").filter(Boolean);
  } catch {
    return []; // git grep exits 1 when nothing matches
  }
}

/** Paths under `prefix` on a revision. */
export function listFiles(dir: string, rev: string, prefix: string): string[] {
  const out = git(dir, ["ls-tree", "-r", "--name-only", rev, "--", prefix]);
  return out === "" ? [] : out.split("\n");
}

/** The approvals repository of one test, with the CLI bound to it and to a clock. */
export class Repo {
  readonly dir: string;
  readonly clock: Clock;
  /** The test's Interlock home (private keys), outside the repository; never the real ~. */
  readonly home: string;
  /** This repository's directory in the home: keys/<principal>, executor.key, mask.key. */
  readonly repoHome: string;

  private constructor(dir: string, clock: Clock, home: string, repoHome: string) {
    this.dir = dir;
    this.clock = clock;
    this.home = home;
    this.repoHome = repoHome;
  }

  /** `interlock init` into a new temporary directory, with a temporary Interlock home. */
  static async init(clock = new Clock()): Promise<Repo> {
    const root = tempDir("interlock-e2e-");
    const dir = join(root, "approvals");
    const home = join(root, "home");
    const r = await run(["init", dir, "--json"], { now: clock.now, env: homeEnv(home) });
    if (r.code !== 0) throw new Error(`interlock init failed (${r.code}): ${r.stderr}`);
    const { home: repoHome } = JSON.parse(r.stdout) as { home: string };
    return new Repo(dir, clock, home, repoHome);
  }

  /** A principal's private key file in the test's Interlock home. */
  keyFile(principal: string): string {
    return join(this.repoHome, "keys", principal);
  }

  /**
   * Runs `interlock <argv> --repo <dir>` in-process. The clock advances one second first,
   * unless `now` is given (then the clock is left alone).
   */
  async cli(
    argv: readonly string[],
    opts: { now?: Date; stdin?: string } = {},
  ): Promise<RunResult> {
    const now = opts.now ?? this.clock.tick();
    return run([...argv, "--repo", this.dir], {
      now,
      cwd: this.dir,
      env: homeEnv(this.home),
      ...(opts.stdin === undefined ? {} : { stdin: opts.stdin }),
    });
  }

  /** Like cli, with --json, parsing stdout as one JSON document. */
  async json<T = Record<string, unknown>>(
    argv: readonly string[],
    opts: { now?: Date; stdin?: string } = {},
  ): Promise<{ code: number; body: T; stderr: string }> {
    const r = await this.cli([...argv, "--json"], opts);
    let body: T;
    try {
      body = JSON.parse(r.stdout) as T;
    } catch {
      throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
    }
    return { code: r.code, body, stderr: r.stderr };
  }

  /**
   * Files a request (an object, written as YAML to stdin) as its requester (--as the
   * requester's id, signed with its key from the home, unless `as` says otherwise); expects it
   * to be accepted.
   */
  async request(request: object, opts: { now?: Date; as?: string } = {}): Promise<Filed> {
    const as = opts.as ?? (request as { requester?: { id?: string } }).requester?.id;
    const r = await this.json<Filed>(["request", "-", ...(as ? ["--as", as] : [])], {
      ...(opts.now ? { now: opts.now } : {}),
      stdin: stringify(request),
    });
    if (r.code !== 0 || r.body.denied) {
      throw new Error(
        `request was not filed (exit ${r.code}): ${JSON.stringify(r.body)} ${r.stderr}`,
      );
    }
    return r.body;
  }

  async gate(id: string, opts: { now?: Date } = {}): Promise<{ code: number; verdict: Verdict }> {
    const r = await this.json<Verdict>(["gate", id], opts);
    return { code: r.code, verdict: r.body };
  }

  async approve(id: string, who: string, opts: { now?: Date; key?: string } = {}) {
    const r = await this.cli(
      ["approve", id, "--as", who, ...(opts.key ? ["--key", opts.key] : [])],
      opts,
    );
    if (r.code !== 0) throw new Error(`approve ${who} failed (${r.code}): ${r.stderr}`);
    return r;
  }

  async merge(id: string, opts: { now?: Date } = {}): Promise<RunResult> {
    return this.cli(["merge", id], opts);
  }

  async execute(
    args: readonly string[] = [],
    opts: { now?: Date } = {},
  ): Promise<{ code: number; reports: ExecReport[]; stderr: string }> {
    const r = await this.json<{ executed: ExecReport[] }>(["execute", ...args], opts);
    return { code: r.code, reports: r.body.executed ?? [], stderr: r.stderr };
  }

  /** `audit [--verify] --json`: JSON Lines of records and findings. */
  async audit(verify = true, opts: { now?: Date } = {}): Promise<AuditOutput> {
    const r = await this.cli(["audit", ...(verify ? ["--verify"] : []), "--json"], opts);
    type Finding = { commit: string; problem: string };
    const lines = r.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const records = lines.filter((l) => !("finding" in l)) as AuditRecord[];
    const findings = lines.flatMap((l) => ("finding" in l ? [l.finding as Finding] : []));
    const problems = [
      ...records.flatMap((rec) => (rec.problems ?? []).map((p) => `${rec.id}: ${p}`)),
      ...findings.map((f) => f.problem),
    ];
    return { code: r.code, records, findings, problems, stderr: r.stderr };
  }

  /** Commit id of a ref. */
  rev(ref: string): string {
    return git(this.dir, ["rev-parse", "--verify", `${ref}^{commit}`]);
  }

  /**
   * Replaces the executor of `action` in .interlock/config.yaml and lands it on main the only
   * valid way: a governance change approved by the demo admins (sam and pat).
   */
  async setExecutor(action: string, executor: Record<string, unknown>): Promise<void> {
    const path = join(this.dir, ".interlock", "config.yaml");
    const config = parseYaml(readFileSync(path, "utf8")) as {
      executors: { actions: Record<string, unknown> };
    };
    config.executors.actions[action] = executor;
    writeFileSync(path, stringify(config, { lineWidth: 0 }));
    await this.governance([".interlock/config.yaml"]);
  }

  /** Proposes the working tree's `paths` as a governance change; sam and pat approve; merged. */
  async governance(paths: readonly string[], approvers = ["sam", "pat"]): Promise<string> {
    const proposed = await this.json<{ id: string }>(["propose-change", ...paths]);
    if (proposed.code !== 0) throw new Error(`propose-change failed: ${proposed.stderr}`);
    for (const who of approvers) await this.approve(proposed.body.id, who);
    const merged = await this.cli(["merge", proposed.body.id]);
    if (merged.code !== 0)
      throw new Error(`governance merge failed: ${merged.stdout}${merged.stderr}`);
    return proposed.body.id;
  }
}

/** The environment of the in-process CLI: only the Interlock home is set, to a temp dir. */
export function homeEnv(home: string): NodeJS.ProcessEnv {
  return { ...process.env, INTERLOCK_HOME: home };
}

/**
 * A shell executor that appends "<request id>" to `log` (a file outside the repository), keeps
 * the JSON it was given on stdin in `<log>.stdin`, and prints that JSON, so a test can count
 * runs, see what the executor received and what the result records.
 */
export function loggingExecutor(log: string): Record<string, unknown> {
  return {
    type: "shell",
    command: [
      "sh",
      "-c",
      'printf "%s\\n" "$INTERLOCK_REQUEST_ID" >> "$RUN_LOG"; tee -a "$RUN_LOG.stdin"',
    ],
    params_via: "stdin",
    env: { RUN_LOG: log },
  };
}

/** Lines of a log file (missing file: none). */
export function logLines(path: string): string[] {
  try {
    return readFileSync(path, "utf8").split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

export interface Filed {
  readonly id: string;
  readonly branch: string | null;
  readonly path: string;
  readonly denied: boolean;
  readonly decision: Record<string, unknown> & {
    allow: boolean;
    risk: string;
    auto_approve: boolean;
    approvals: { groups: { name: string; owners: string[]; min: number }[] };
  };
}

export interface Verdict {
  readonly satisfied: boolean;
  readonly rules: { rule: string; ok: boolean; detail: string }[];
  readonly approvals: { who: string; counted: boolean; why: string }[];
  readonly summary: string;
}

export interface ExecReport {
  readonly id: string;
  readonly action: string;
  readonly status: string;
  readonly detail: string;
}

export interface AuditRecord {
  readonly id: string;
  readonly action: string;
  readonly status: string;
  readonly decision: string;
  readonly approvers: string[];
  readonly outcome: string | null;
  readonly problems?: string[];
  readonly [key: string]: unknown;
}

export interface AuditOutput {
  readonly code: number;
  readonly records: AuditRecord[];
  readonly findings: { commit: string; problem: string }[];
  /** Every problem, per request ("<id>: …") and per commit. */
  readonly problems: string[];
  readonly stderr: string;
}

/** The rule `rule` of a verdict (throws if absent). */
export function rule(v: Verdict, name: string): { rule: string; ok: boolean; detail: string } {
  const r = v.rules.find((x) => x.rule === name);
  if (!r) throw new Error(`no rule ${name} in ${JSON.stringify(v.rules)}`);
  return r;
}

/** Requests used across the tests. */
export const requests = {
  /** db.export to an allowed destination: high risk, needs data-stewards (dana). */
  export: (over: Record<string, unknown> = {}) => ({
    action: "db.export",
    resource: "postgres://prod/customers",
    params: {
      query: "select id, plan from customers where email = 'jane.doe@example.com'",
      destination: "s3://analytics-exports/churn/2026-11/",
    },
    reason: "Weekly churn analysis",
    requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
    ttl: "24h",
    ...over,
  }),
  /** db.export outside the allow-list: critical, needs data-stewards and security. */
  criticalExport: () =>
    requests.export({
      params: {
        query: "select id, plan from customers where cancelled",
        destination: "s3://partner-share/x/",
      },
    }),
  /** db.query outside production: auto-approved by the default policy. */
  query: (n = 0) => ({
    action: "db.query",
    resource: "postgres://staging/products",
    params: { query: `select count(*) from products where shelf = ${n}` },
    reason: `Count products on shelf ${n}`,
    requester: { id: "agent:catalogue-bot", kind: "agent", on_behalf_of: "alice" },
  }),
};

/**
 * The content of every git object reachable from any ref (commits with their messages, trees,
 * blobs, tags), concatenated: what a leak test searches.
 */
export function reachableObjects(dir: string): string {
  const ids = git(dir, ["rev-list", "--all", "--objects"])
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter(Boolean);
  return execFileSync("git", ["-C", dir, "cat-file", "--batch"], {
    env: gitEnv(),
    input: ids.join("\n") + "\n",
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
}
