import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InterlockConfig } from "../../src/config/config.ts";
import type { DecideContext } from "../../src/decide.ts";
import { ApiCallCounter } from "../../src/forge/github/api-call-counter.ts";
import { GitHubForge } from "../../src/forge/github/github-forge.ts";
import { createOctokit } from "../../src/forge/github/octokit.ts";
import { executeMerged, type ExecutionReport } from "../../src/lifecycle/execute.ts";
import { fileRequest, type FiledRequest } from "../../src/lifecycle/file-request.ts";
import { checkGate, type GateResult } from "../../src/lifecycle/gate-check.ts";
import { newAgeIdentity } from "../../src/masking/seal.ts";
import { defaultPoliciesDir } from "../../src/policy/bundle.ts";
import { loadPolicyEngine, type PolicyEngine } from "../../src/policy/engine.ts";
import { requestSchema, type Request } from "../../src/request/schema.ts";
import { GitHubSimulator } from "./simulator.ts";

/**
 * One approvals repository on the simulated GitHub, with the people of `interlock init`
 * (alice the sponsor, dana in data-stewards, sam in security, …), the Interlock bot, and the
 * GitHub forge over a real Octokit client. The lifecycle functions run unchanged against it.
 */

export const ORG = "acme";
export const BOT = "interlock-app[bot]";
/** The Interlock GitHub App's id (what `interlock/gate` is pinned to). */
export const INTERLOCK_APP_ID = 424242;

export const CODEOWNERS = `# Who may approve what (the base branch's copy is what counts).
/requests/                      @acme/security
/requests/db.export/            @acme/data-stewards
/requests/iam.grant/            @acme/security
/policies/                      @acme/security
/CODEOWNERS                     @acme/security
`;

/** An ssh-ed25519 public key of random bytes, made at run time (nothing can sign with it). */
function fakeSshKey(): string {
  const type = Buffer.from("ssh-ed25519");
  const blob = Buffer.concat([
    Buffer.from([0, 0, 0, type.length]),
    type,
    Buffer.from([0, 0, 0, 32]),
    randomBytes(32),
  ]);
  return `ssh-ed25519 ${blob.toString("base64")}`;
}

/** A test clock: every step of a story happens a little later than the last. */
export class TestClock {
  #t: number;
  constructor(start = "2026-11-24T10:00:00.000Z") {
    this.#t = new Date(start).getTime();
  }
  get now(): Date {
    return new Date(this.#t);
  }
  tick(seconds = 1): Date {
    this.#t += seconds * 1000;
    return new Date(this.#t);
  }
}

/** Requests used across the GitHub tests (validated like the CLI would). */
export const requests = {
  /** db.export outside the allow-list: critical, needs data-stewards and security. */
  criticalExport: (): Request =>
    requestSchema.parse({
      action: "db.export",
      resource: "postgres://prod/customers",
      params: {
        query: "select id, plan from customers where email = 'jane.doe@example.com'",
        destination: "s3://partner-share/x/",
      },
      reason: "Quarterly partner report",
      requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
      ttl: "24h",
    }),
  /** db.export to an allowed destination: high risk, needs data-stewards. */
  export: (): Request =>
    requestSchema.parse({
      action: "db.export",
      resource: "postgres://prod/customers",
      params: {
        query: "select id, plan from customers where cancelled",
        destination: "s3://analytics-exports/churn/2026-11/",
      },
      reason: "Weekly churn analysis",
      requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
      ttl: "24h",
    }),
};

let enginePromise: Promise<PolicyEngine> | undefined;

/** The shipped default policies (loaded once per test file). */
export function defaultEngine(): Promise<PolicyEngine> {
  enginePromise ??= loadPolicyEngine(defaultPoliciesDir());
  return enginePromise;
}

/**
 * The approvals repository's configuration (committed on main by create(), where the gate and
 * the executor read it): the people of `interlock init`, the ETL agent bound to its sponsor
 * alice, and executors that log each run to `runLog`.
 */
function worldConfig(recipient: string, runLog: string): InterlockConfig {
  return {
    version: 1,
    org: ORG,
    default_branch: "main",
    admins: [],
    // Who files on GitHub: the account that dispatches (bound in the request workflow).
    people: Object.fromEntries(
      ["alice", "dana", "sam", "pat"].map((id) => [
        id,
        { name: `${id} Example`, email: `${id}@acme.example`, aliases: [], bot: false },
      ]),
    ),
    agents: {
      "agent:etl-bot": {
        name: "ETL bot",
        signing_key: fakeSshKey(),
        sponsor: "alice",
        aliases: ["etl-bot[bot]"],
      },
    },
    teams: {},
    executors: {
      recipients: [recipient],
      identity_file: ".interlock/executor.key",
      actions: {
        "db.export": {
          type: "shell",
          command: [
            "sh",
            "-c",
            'cat > /dev/null; printf "%s\\n" "$INTERLOCK_REQUEST_ID" >> "$RUN_LOG"',
          ],
          params_via: "stdin",
          env: { RUN_LOG: runLog },
        },
        "*": { type: "noop" },
      },
    },
  };
}

export class World {
  readonly sim: GitHubSimulator;
  readonly forge: GitHubForge;
  readonly counter: ApiCallCounter;
  readonly clock: TestClock;
  readonly engine: PolicyEngine;
  readonly age: { identity: string; recipient: string };
  readonly config: InterlockConfig;
  /** A working directory for executors (the approvals repository's checkout in CI). */
  readonly repoDir: string;
  /** Where the test executor appends the id of every request it runs. */
  readonly runLog: string;

  private constructor(w: {
    sim: GitHubSimulator;
    forge: GitHubForge;
    counter: ApiCallCounter;
    clock: TestClock;
    engine: PolicyEngine;
    age: { identity: string; recipient: string };
    repoDir: string;
    config: InterlockConfig;
  }) {
    this.sim = w.sim;
    this.forge = w.forge;
    this.counter = w.counter;
    this.clock = w.clock;
    this.engine = w.engine;
    this.age = w.age;
    this.repoDir = w.repoDir;
    this.runLog = join(w.repoDir, "runs.log");
    this.config = w.config;
  }

  static async create(opts: { protectMain?: boolean; start?: string } = {}): Promise<World> {
    const clock = new TestClock(opts.start);
    const sim = await GitHubSimulator.start({
      owner: ORG,
      repo: "approvals",
      now: () => clock.now,
    });
    const botToken = sim.addUser(BOT, { type: "Bot", role: "write" });
    sim.addApp(BOT, {
      id: INTERLOCK_APP_ID,
      slug: "interlock-app",
      name: "Interlock",
      membersRead: true,
    });
    sim.addUser("root", { role: "admin", name: "Root Admin" });
    for (const login of ["alice", "dana", "sam", "pat", "mallory"]) {
      sim.addUser(login, {
        role: "write",
        name: `${login[0]!.toUpperCase()}${login.slice(1)} Example`,
      });
    }
    sim.addUser("reader", { role: "read" });
    sim.addUser("deploy-bot", { type: "Bot", role: "write" });
    sim.addUser("github-actions[bot]", { type: "Bot", role: "write" });
    sim.addTeam("data-stewards", ["dana", "alice", "reader"]);
    sim.addTeam("security", ["sam"]);
    sim.addTeam("platform", ["pat"]);
    const age = await newAgeIdentity();
    const repoDir = mkdtempSync(join(tmpdir(), "interlock-gh-exec-"));
    const config = worldConfig(age.recipient, join(repoDir, "runs.log"));
    await sim.seed({
      CODEOWNERS,
      "README.md": "# Approvals\n",
      ".interlock/config.yaml": stringify(config),
    });
    if (opts.protectMain) {
      sim.protect("main", { requiredApprovals: 2, enforceAdmins: false, bypass: [BOT] });
    }
    const counter = new ApiCallCounter();
    const octokit = createOctokit({
      token: botToken,
      baseUrl: sim.url,
      counter,
      pacing: "none",
      msPerSecond: 1,
    });
    const forge = new GitHubForge({
      octokit,
      owner: ORG,
      repo: "approvals",
      defaultBranch: "main",
      org: ORG,
      botLogin: BOT,
      counter,
    });
    return new World({
      sim,
      forge,
      counter,
      clock,
      engine: await defaultEngine(),
      age,
      repoDir,
      config,
    });
  }

  /** A second forge (its own Octokit client) for the same repository: another executor. */
  secondForge(): GitHubForge {
    return new GitHubForge({
      octokit: createOctokit({
        token: this.sim.token(BOT),
        baseUrl: this.sim.url,
        counter: this.counter,
        pacing: "none",
        msPerSecond: 1,
      }),
      owner: ORG,
      repo: "approvals",
      defaultBranch: "main",
      org: ORG,
      botLogin: BOT,
      counter: this.counter,
    });
  }

  decide(now = this.clock.tick()): DecideContext {
    return { ...this.#policy(), now };
  }

  #policy(): Omit<DecideContext, "now"> {
    return { engine: this.engine, repo: `${ORG}/approvals`, hmacKey: new Uint8Array(32).fill(7) };
  }

  file(request: Request): Promise<FiledRequest> {
    return this.counter.measure("fileRequest", () =>
      fileRequest(request, {
        forge: this.forge,
        decide: this.decide(),
        recipients: [this.age.recipient],
      }),
    );
  }

  gate(id: string): Promise<GateResult> {
    return this.counter.measure("gate", () => checkGate(this.forge, id, this.clock.tick()));
  }

  execute(forge: GitHubForge = this.forge): Promise<ExecutionReport[]> {
    return this.counter.measure("execute", () =>
      executeMerged({
        forge,
        config: this.config,
        repoDir: this.repoDir,
        identities: [this.age.identity],
        decide: this.#policy(),
        now: () => this.clock.tick(),
        env: { PATH: process.env.PATH, HOME: this.repoDir, LANG: "C" },
      }),
    );
  }

  /** The pull request of a request (throws if there is none). */
  pr(id: string): { number: number; headSha: string; state: string; merged: boolean } {
    const pr = this.sim.pullFor(id);
    if (!pr) throw new Error(`no pull request for ${id}`);
    return pr;
  }

  /** Request ids the executor ran, in order. */
  runs(): string[] {
    try {
      return readFileSync(this.runLog, "utf8").split("\n").filter(Boolean);
    } catch {
      return [];
    }
  }

  /** A file on the default branch of the simulated repository. */
  async fileOnMain(path: string): Promise<string | undefined> {
    return (await this.sim.git.file("refs/heads/main", path))?.content.toString("utf8");
  }

  async close(): Promise<void> {
    rmSync(this.repoDir, { recursive: true, force: true });
    await this.sim.close();
  }
}

/** The rule `name` of a verdict. */
export function ruleOf(gate: GateResult, name: string): { ok: boolean; detail: string } {
  const r = gate.verdict.rules.find((x) => x.rule === name);
  if (!r) throw new Error(`no rule ${name}`);
  return r;
}
