import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ActionCore, ActionForge } from "../src/action/run.ts";
import type {
  ForgeReview,
  MergedRequest,
  NewProposal,
  OpenedProposal,
  ProposalContext,
} from "../src/forge/forge.ts";
import type { GateVerdict } from "../src/gate/snapshot.ts";
import type { InterlockConfig } from "../src/config/config.ts";
import { parseRequestFile } from "../src/proposal/request-file.ts";
import { tempDir } from "./helpers.ts";

/**
 * Test doubles for the action's dispatch tests: an in-memory forge (one value per method,
 * cf. policy-bot's pulltest.Context) that records every call, and a core that records outputs.
 * The end-to-end test runs the real GitHubForge against the simulator instead.
 */

interface MemoryProposal {
  readonly id: string;
  readonly path: string;
  readonly original: string;
  content: string;
  head: string;
  readonly base: string;
  /** When the double filed it (the proposal's own date, as the App writes it). */
  readonly filedAt: Date;
  reviews: ForgeReview[];
  merged?: { commit: string; at: Date };
}

export class MemoryForge implements ActionForge {
  readonly kind = "github" as const;
  readonly defaultBranch = "main";
  /** Every method call, by name, in order. */
  readonly calls: string[] = [];
  readonly files = new Map<string, string>();
  readonly proposals = new Map<string, MemoryProposal>();
  readonly claims = new Set<string>();
  readonly published: { id: string; verdict: GateVerdict; markdown: string; head: string }[] = [];
  readonly comments: { id: string; markdown: string }[] = [];
  teamMembers: Record<string, string[]> = {
    "@acme/data-stewards": ["dana"],
    "@acme/security": ["sam"],
    "@acme/platform": ["pat"],
  };
  codeownersText = "/requests/ @acme/security\n/requests/db.export/ @acme/data-stewards\n";
  /** The configuration committed at every base (set by the test: the one its checkout has). */
  config: InterlockConfig | undefined;
  /**
   * The policy revision committed at every base; unset, the revision each filed decision names
   * (this double is for which mode calls what; the evidence rules are tested on real forges).
   */
  policyRevision: string | undefined;
  #n = 0;
  #main = this.#sha();

  #sha(): string {
    return createHash("sha1").update(String(++this.#n)).digest("hex");
  }

  async openProposal(p: NewProposal): Promise<OpenedProposal> {
    this.calls.push("openProposal");
    const head = this.#sha();
    this.proposals.set(p.id, {
      id: p.id,
      path: p.path,
      original: p.content,
      content: p.content,
      head,
      base: this.#main,
      filedAt: p.date,
      reviews: [],
    });
    return {
      id: p.id,
      branch: `interlock/${p.id}`,
      head,
      url: `https://github.com/acme/approvals/pull/${this.proposals.size}`,
    };
  }

  async recordDenial(p: { id: string; path: string; content: string }): Promise<string> {
    this.calls.push("recordDenial");
    this.files.set(p.path, p.content);
    return (this.#main = this.#sha());
  }

  /** A review given on the proposal's current head. */
  review(id: string, who: string, state: ForgeReview["state"] = "approved", at = new Date()): void {
    const p = this.proposals.get(id)!;
    p.reviews.push({
      who,
      state,
      commit: p.head,
      at,
      isBot: who.endsWith("[bot]"),
      verified: true,
      canApprove: true,
    });
  }

  #context(p: MemoryProposal): ProposalContext {
    return {
      id: p.id,
      headCommit: p.head,
      baseCommit: p.base,
      author: async () => "github-actions[bot]",
      committers: async () => ["github-actions[bot]"],
      changedFiles: async () => [{ path: p.path, status: "added" }],
      reviews: async () => [...p.reviews],
      readHead: async (path) => (path === p.path ? p.content : undefined),
      readOriginal: async (path) => (path === p.path ? p.original : undefined),
      codeowners: async () => this.codeownersText,
      teams: async () => this.teamMembers,
      config: async () => this.config,
      policy: async () => ({
        revision: this.policyRevision ?? revisionIn(p.original),
        files: undefined,
        committed: true,
      }),
      filedAt: async () => ({ at: p.filedAt }),
      authenticate: async (declared) => ({
        verified: true,
        signer: declared.id,
        detail: "the in-memory forge files for whoever dispatched",
        requester: declared,
      }),
    };
  }

  async proposal(id: string): Promise<ProposalContext | undefined> {
    this.calls.push("proposal");
    const p = this.proposals.get(id);
    return p && !p.merged ? this.#context(p) : undefined;
  }

  async merge(id: string, head: string, _message: string, date: Date): Promise<string> {
    this.calls.push("merge");
    const p = this.proposals.get(id)!;
    if (p.head !== head) throw new Error("head moved");
    this.#main = this.#sha();
    p.merged = { commit: this.#main, at: date };
    this.files.set(p.path, p.content);
    return this.#main;
  }

  async mergedRequests(): Promise<MergedRequest[]> {
    this.calls.push("mergedRequests");
    return [...this.proposals.values()]
      .filter((p) => p.merged)
      .map((p) => ({
        id: p.id,
        path: p.path,
        mergeCommit: p.merged!.commit,
        mergedAt: p.merged!.at,
      }));
  }

  async evidence(m: MergedRequest): Promise<ProposalContext | { refused: string }> {
    this.calls.push("evidence");
    const p = this.proposals.get(m.id);
    return p ? this.#context(p) : { refused: "no proposal" };
  }

  async claim(id: string): Promise<boolean> {
    this.calls.push("claim");
    if (this.claims.has(id)) return false;
    this.claims.add(id);
    return true;
  }

  async isClaimed(id: string): Promise<boolean> {
    this.calls.push("isClaimed");
    return this.claims.has(id);
  }

  async releaseClaim(id: string): Promise<void> {
    this.calls.push("releaseClaim");
    this.claims.delete(id);
  }

  async readDefault(path: string): Promise<string | undefined> {
    this.calls.push("readDefault");
    return this.files.get(path);
  }

  async commitToDefault(files: { path: string; content: string }[]): Promise<string> {
    this.calls.push("commitToDefault");
    for (const f of files) this.files.set(f.path, f.content);
    return (this.#main = this.#sha());
  }

  async publishGate(
    id: string,
    verdict: GateVerdict,
    markdown: string,
    head: string,
  ): Promise<void> {
    this.calls.push("publishGate");
    this.published.push({ id, verdict, markdown, head });
  }

  async comment(id: string, markdown: string): Promise<void> {
    this.calls.push("comment");
    this.comments.push({ id, markdown });
  }
}

/** Calls that change the default branch or run an executor: never on a PR event. */
export const EXECUTION_CALLS = [
  "mergedRequests",
  "evidence",
  "claim",
  "releaseClaim",
  "commitToDefault",
  "merge",
];

export class RecordingCore implements ActionCore {
  readonly outputs: Record<string, string> = {};
  readonly infos: string[] = [];
  readonly warnings: string[] = [];
  readonly failures: string[] = [];
  readonly summaries: string[] = [];
  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
  }
  info(m: string): void {
    this.infos.push(m);
  }
  warning(m: string): void {
    this.warnings.push(m);
  }
  setFailed(m: string): void {
    this.failures.push(m);
  }
  async summary(markdown: string): Promise<void> {
    this.summaries.push(markdown);
  }
}

/** A runner-like environment: a workspace and the event payload written where GitHub puts it. */
export function runnerEnv(
  eventName: string,
  payload: unknown,
  inputs: Record<string, string> = {},
  workspace = tempDir("interlock-action-"),
): NodeJS.ProcessEnv {
  const eventPath = join(tempDir("interlock-event-"), "event.json");
  writeFileSync(eventPath, JSON.stringify(payload));
  const env: NodeJS.ProcessEnv = {
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: "acme/approvals",
    GITHUB_API_URL: "https://api.github.com",
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_RUN_ID: "1234",
    GITHUB_WORKSPACE: workspace,
    GITHUB_SHA: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    INPUT_TOKEN: "ghs_testtoken",
    "INPUT_APP-SLUG": "interlock-app",
    INPUT_MODE: "auto",
    "INPUT_REPO-DIR": ".",
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return env;
}

/** The policy revision a request file's decision names ("" when it cannot be read). */
function revisionIn(text: string): string {
  const parsed = parseRequestFile(text);
  return "record" in parsed ? parsed.record.decision.revision : "";
}
