import { execFile } from "node:child_process";
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { githubForgeFactory } from "../../src/action/production.ts";
import { run, type RunOutcome } from "../../src/action/run.ts";
import { parseSettings } from "../../src/action/settings.ts";
import { RecordingCore } from "../github-action-doubles.ts";
import {
  pullRequestEvent,
  pullRequestReviewEvent,
  pushEvent,
  repositoryDispatchEvent,
  user,
  workflowDispatchEvent,
} from "../github-events.ts";
import { tempDir } from "../helpers.ts";
import { ZERO_SHA } from "./bare-repo.ts";
import type { SimEvent } from "./simulator.ts";
import { BOT, INTERLOCK_APP_ID, type World } from "./world.ts";

/**
 * A small GitHub Actions runner for tests: it runs the workflows committed in the simulated
 * repository (the ones docs/github.md documents, installed by `installDocumentedWorkflows`)
 * on the events the simulator delivers, as GitHub would:
 *
 * - the workflow files come from the commit GitHub reads them from (the pushed commit for
 *   `push`, the base branch for `pull_request_target`, the default branch for
 *   `repository_dispatch`, the pull request for `pull_request` and `pull_request_review`);
 * - `on:` is matched by event name, `types` and `branches` (with GitHub's default types);
 * - the simulator's workflow-trigger rules decide whether the event starts a run for the
 *   account that caused it (GitHubSimulator.workflowStart);
 * - a job's `environment:` gives it the environment's secrets and variables only on a ref the
 *   environment allows (the documented `interlock` environment: the default branch only);
 *   on any other ref GitHub fails the job before it starts;
 * - steps run in order, and the first failing step fails the job: `actions/checkout` clones
 *   the simulator's real bare repository at the run's commit, `actions/create-github-app-token`
 *   mints the App's installation token when given the App's id and key, `OWNER/interlock@v1`
 *   calls the action's run() with the INPUT_* and GITHUB_* environment a runner sets, and a
 *   `run:` script runs in bash with a `gh` that records its calls (only `gh api …/dispatches`
 *   is carried out, with the token the script was given).
 *
 * Everything it does not model (other actions, expressions, `on:` filters, job keys) fails
 * loudly instead of being guessed. Concurrency groups are not modelled: runs are sequential.
 */

const pexec = promisify(execFile);

const OWNER = "acme";
const REPO = "approvals";
const REF_MAIN = "refs/heads/main";
/** What the runner's GITHUB_TOKEN authenticates as. */
const GITHUB_ACTIONS = "github-actions[bot]";

/** The workflow files docs/github.md documents: path → YAML text, in document order. */
export function documentedWorkflows(docsPath: string): Map<string, string> {
  const text = readFileSync(docsPath, "utf8");
  const out = new Map<string, string>();
  const re = /^### `(\.github\/workflows\/[^`]+\.ya?ml)`\s*\n+```yaml\n([\s\S]*?)^```/gm;
  for (const m of text.matchAll(re)) out.set(m[1]!, m[2]!);
  return out;
}

/** The environment of the documented setup: secrets and variables, and the refs it allows. */
export interface Environment {
  readonly refs: readonly string[];
  readonly secrets: Readonly<Record<string, string>>;
  readonly vars: Readonly<Record<string, string>>;
}

/** One job a workflow run had (or was refused). */
export interface JobRun {
  readonly workflow: string;
  readonly job: string;
  readonly event: string;
  readonly action?: string;
  readonly actor: string;
  readonly ref: string;
  /** not-started: the trigger rules start no run; awaiting-approval: it waits for a person. */
  readonly conclusion: "success" | "failure" | "skipped" | "not-started" | "awaiting-approval";
  readonly reason?: string;
  /** The workflow file, and the event delivery that started the run (for re-runs). */
  readonly path: string;
  readonly delivery: Delivery;
  /** The workflow's concurrency group, evaluated for this run (runs here are sequential). */
  readonly concurrency?: string;
  /** The Interlock step's outcomes and what it reported. */
  readonly outcomes: RunOutcome[];
  readonly cores: RecordingCore[];
}

export interface Delivery {
  readonly name: string;
  /** A workflow_dispatch starts one workflow file, not every listening one. */
  readonly only?: string;
  readonly payload: Record<string, unknown>;
  readonly actor: string;
  /** GITHUB_REF and GITHUB_SHA of the run. */
  readonly ref: string;
  readonly sha: string;
  /** The commit whose .github/workflows GitHub reads for this event. */
  readonly workflowSha: string;
}

type Json = Record<string, unknown>;

class Unsupported extends Error {
  constructor(what: string) {
    super(`the test workflow runner does not model ${what}`);
  }
}

export class WorkflowRunner {
  readonly jobs: JobRun[] = [];
  readonly #w: World;
  readonly #env: Readonly<Record<string, Environment>>;
  readonly #appKey: string;
  readonly #githubToken: string;
  #cursor: number;
  #queue: Delivery[] = [];
  #runId = 1000;
  /** Workspaces, event files and tool directories of the runs, removed by close(). */
  readonly #dirs: string[] = [];

  /**
   * `environments`: the repository's environments by name; `appKey`: the App's private key
   * (what create-github-app-token accepts for INTERLOCK_APP_ID).
   */
  constructor(w: World, opts: { environments: Record<string, Environment>; appKey: string }) {
    this.#w = w;
    this.#env = opts.environments;
    this.#appKey = opts.appKey;
    this.#githubToken = w.sim.token(GITHUB_ACTIONS);
    this.#cursor = w.sim.eventCursor();
  }

  /**
   * `gh workflow run <file> --ref <ref> -f k=v` by `actor` (write access needed): runs that one
   * workflow, as committed on `ref`, if it has a workflow_dispatch trigger (else GitHub refuses).
   */
  async workflowDispatch(
    actor: string,
    file: string,
    inputs: Record<string, string>,
    ref = REF_MAIN,
  ): Promise<void> {
    this.#needWrite(actor, "workflow_dispatch");
    const sha = await this.#tip(ref);
    const path = `.github/workflows/${file}`;
    const target = (await this.#workflowsAt(sha)).find((x) => x.path === path);
    const on = target?.doc.on;
    const dispatchable =
      on === "workflow_dispatch" ||
      (Array.isArray(on) && on.includes("workflow_dispatch")) ||
      (typeof on === "object" && on !== null && "workflow_dispatch" in on);
    if (!dispatchable) {
      throw new Error(`${path} on ${ref} has no workflow_dispatch trigger (GitHub answers 422)`);
    }
    this.#queue.push({
      only: path,
      name: "workflow_dispatch",
      payload: {
        ...workflowDispatchEvent({ ref, inputs, sender: actor }),
        sender: senderOf(actor),
      },
      actor,
      ref,
      sha,
      workflowSha: sha,
    });
    await this.settle();
  }

  /** `POST /repos/{o}/{r}/dispatches` by `actor` (Contents: write needed). */
  async repositoryDispatch(
    actor: string,
    eventType: string,
    clientPayload: Record<string, unknown>,
  ): Promise<void> {
    this.#enqueueDispatch(actor, eventType, clientPayload);
    await this.settle();
  }

  /** "Re-run all jobs" of a run: its workflow again, on the same event, ref and commit. */
  async rerun(job: JobRun): Promise<void> {
    this.#queue.push({ ...job.delivery, only: job.path });
    await this.settle();
  }

  /** Delivers every pending event (and those its runs cause) until nothing is left. */
  async settle(): Promise<void> {
    for (let i = 0; ; i++) {
      if (i > 50) throw new Error("workflow runs keep causing events: a loop?");
      await this.#collect();
      const next = this.#queue.shift();
      if (next === undefined) return;
      await this.#deliver(next);
    }
  }

  /** Removes the runs' temporary directories. */
  close(): void {
    for (const d of this.#dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }

  #tempDir(prefix: string): string {
    const d = tempDir(prefix);
    this.#dirs.push(d);
    return d;
  }

  /** Jobs of a workflow (by its `name:`), in the order they ran. */
  runsOf(workflow: string): JobRun[] {
    return this.jobs.filter((j) => j.workflow === workflow);
  }

  #needWrite(actor: string, what: string): void {
    const role = this.#w.sim.roleOf(actor);
    if (role === undefined || role === "read" || role === "triage") {
      throw new Error(`${actor} may not send ${what}: it needs write access (GitHub answers 404)`);
    }
  }

  #enqueueDispatch(actor: string, eventType: string, clientPayload: Record<string, unknown>) {
    this.#needWrite(actor, "repository_dispatch");
    const sha = ""; // the default branch's tip when it is delivered (#collect)
    this.#queue.push({
      name: "repository_dispatch",
      payload: {
        ...repositoryDispatchEvent({ eventType, clientPayload, sender: actor }),
        sender: senderOf(actor),
      },
      actor,
      ref: REF_MAIN,
      sha,
      workflowSha: sha,
    });
  }

  async #tip(ref: string): Promise<string> {
    const sha = await this.#w.sim.git.resolve(ref);
    if (sha === undefined) throw new Error(`no ${ref}`);
    return sha;
  }

  async #collect(): Promise<void> {
    const sim = this.#w.sim;
    const upto = sim.eventCursor();
    const events = sim.eventsSince(this.#cursor).filter((e) => e.seq <= upto);
    this.#cursor = upto;
    for (const e of events) this.#queue.push(...(await this.#deliveries(e)));
    // Dispatches run on the default branch's tip when they are delivered.
    const tip = await this.#tip(REF_MAIN);
    this.#queue = this.#queue.map((d) => (d.sha === "" ? { ...d, sha: tip, workflowSha: tip } : d));
  }

  /** The webhook deliveries of a simulator event (a pull request event is two: _target too). */
  async #deliveries(e: SimEvent): Promise<Delivery[]> {
    switch (e.kind) {
      case "repository_dispatch": {
        // Sent through the API (POST /dispatches); the simulator checked the sender's access.
        // Runs on the default branch's tip when delivered (#collect fills in the commit).
        return [
          {
            name: "repository_dispatch",
            payload: {
              ...repositoryDispatchEvent({
                eventType: e.eventType,
                clientPayload: e.clientPayload,
                sender: e.actor,
              }),
              sender: senderOf(e.actor),
            },
            actor: e.actor,
            ref: REF_MAIN,
            sha: "",
            workflowSha: "",
          },
        ];
      }
      case "push": {
        // A deleted branch has no commit to read workflows from; nothing here listens for it.
        if (e.after === ZERO_SHA) return [];
        const base = pushEvent({ ref: e.ref, after: e.after, pusher: e.actor });
        const payload = {
          ...base,
          before: e.before,
          created: e.before === ZERO_SHA,
          sender: senderOf(e.actor),
        };
        return [
          { name: "push", payload, actor: e.actor, ref: e.ref, sha: e.after, workflowSha: e.after },
        ];
      }
      case "pull_request": {
        const p = e.pull;
        const payload = {
          ...pullRequestEvent({
            number: p.number,
            headRef: p.head,
            headSha: p.headSha,
            baseRef: p.base,
            state: p.state,
            action: e.action,
          }),
          sender: senderOf(e.actor),
        };
        Object.assign(payload.pull_request, { user: senderOf(p.author), title: p.title });
        const base = await this.#tip(`refs/heads/${p.base}`);
        return [
          {
            name: "pull_request_target",
            payload,
            actor: e.actor,
            ref: `refs/heads/${p.base}`,
            sha: base,
            workflowSha: base,
          },
          {
            name: "pull_request",
            payload,
            actor: e.actor,
            ref: `refs/pull/${p.number}/merge`,
            sha: p.headSha,
            workflowSha: p.headSha,
          },
        ];
      }
      case "pull_request_review": {
        const p = e.pull;
        const payload = pullRequestReviewEvent({
          number: p.number,
          headRef: p.head,
          headSha: p.headSha,
          baseRef: p.base,
          state: p.state,
          reviewer: e.review.user,
        }) as Json;
        payload.action = e.action;
        payload.review = {
          ...(payload.review as Json),
          id: e.review.id,
          state: e.review.state,
          commit_id: e.review.commitId,
          user: senderOf(e.review.user),
        };
        payload.sender = senderOf(e.actor);
        Object.assign(payload.pull_request as Json, { user: senderOf(p.author), title: p.title });
        return [
          {
            name: "pull_request_review",
            payload,
            actor: e.actor,
            ref: `refs/pull/${p.number}/merge`,
            sha: p.headSha,
            workflowSha: p.headSha,
          },
        ];
      }
    }
  }

  async #workflowsAt(sha: string): Promise<{ path: string; doc: Json }[]> {
    const entries = await this.#w.sim.git.lsTree(sha, { recursive: true });
    const out: { path: string; doc: Json }[] = [];
    for (const e of entries) {
      if (e.type !== "blob" || !/^\.github\/workflows\/[^/]+\.ya?ml$/.test(e.path)) continue;
      const text = (await this.#w.sim.git.readBlob(e.sha)).toString("utf8");
      out.push({ path: e.path, doc: parse(text) as Json });
    }
    return out;
  }

  async #deliver(d: Delivery): Promise<void> {
    for (const { path, doc } of await this.#workflowsAt(d.workflowSha)) {
      if ((d.only !== undefined && path !== d.only) || !listensTo(doc, d)) continue;
      const name = typeof doc.name === "string" ? doc.name : path;
      checkKeys(doc, ["name", "on", "permissions", "concurrency", "jobs"], `workflow ${name}`);
      const start = this.#w.sim.workflowStart(d.name, d.actor);
      for (const [jobId, job] of Object.entries(doc.jobs as Record<string, Json>)) {
        const base = {
          workflow: name,
          path,
          delivery: d,
          job: jobId,
          event: d.name,
          ...(typeof d.payload.action === "string" ? { action: d.payload.action } : {}),
          actor: d.actor,
          ref: d.ref,
          outcomes: [] as RunOutcome[],
          cores: [] as RecordingCore[],
        };
        if (start === "none") {
          this.jobs.push({ ...base, conclusion: "not-started", reason: "trigger rules" });
          continue;
        }
        if (start === "awaiting-approval") {
          this.jobs.push({ ...base, conclusion: "awaiting-approval", reason: "trigger rules" });
          continue;
        }
        this.jobs.push(await this.#runJob(doc, job, d, base));
      }
    }
  }

  async #runJob(
    workflow: Json,
    job: Json,
    d: Delivery,
    base: Omit<JobRun, "conclusion">,
  ): Promise<JobRun> {
    checkKeys(job, ["name", "if", "runs-on", "environment", "permissions", "steps"], "a job");
    const ctx = {
      event: d.payload,
      secrets: {} as Record<string, string>,
      vars: {} as Record<string, string>,
      steps: {} as Record<string, { outputs: Record<string, string> }>,
      d,
      token: this.#githubToken,
    };
    const concurrency = workflow.concurrency as Json | string | undefined;
    if (concurrency !== undefined) {
      const group = typeof concurrency === "string" ? concurrency : concurrency.group;
      base = { ...base, concurrency: substitute(String(group), ctx) };
    }
    if (job.if !== undefined && !evalCondition(String(job.if), ctx)) {
      return { ...base, conclusion: "skipped", reason: `if: ${String(job.if)}` };
    }
    if (job.environment !== undefined) {
      const name = String(job.environment);
      const env = this.#env[name];
      if (env === undefined) throw new Unsupported(`environment ${name} (not configured)`);
      if (!env.refs.includes(d.ref)) {
        return {
          ...base,
          conclusion: "failure",
          reason: `${d.ref} is not allowed to deploy to ${name} due to environment protection rules`,
        };
      }
      ctx.secrets = { ...env.secrets };
      ctx.vars = { ...env.vars };
    }
    const permissions = (job.permissions ?? workflow.permissions ?? {}) as unknown;
    const workspace = this.#tempDir("interlock-runner-ws-");
    const eventPath = join(this.#tempDir("interlock-runner-event-"), "event.json");
    writeFileSync(eventPath, JSON.stringify(d.payload));
    const runnerEnv: Record<string, string> = {
      CI: "true",
      GITHUB_ACTIONS: "true",
      GITHUB_EVENT_NAME: d.name,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
      GITHUB_REPOSITORY_OWNER: OWNER,
      GITHUB_API_URL: this.#w.sim.url,
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_RUN_ID: String(++this.#runId),
      GITHUB_WORKSPACE: workspace,
      GITHUB_SHA: d.sha,
      GITHUB_REF: d.ref,
      GITHUB_ACTOR: d.actor,
      GITHUB_WORKFLOW: base.workflow,
      GITHUB_JOB: base.job,
      PATH: process.env.PATH ?? "",
      HOME: workspace,
      LANG: "C",
    };
    for (const [i, step] of ((job.steps ?? []) as Json[]).entries()) {
      checkKeys(step, ["id", "name", "uses", "with", "env", "run"], "a step");
      const withs = Object.fromEntries(
        Object.entries((step.with ?? {}) as Json).map(([k, v]) => [k, substitute(String(v), ctx)]),
      );
      const stepEnv = Object.fromEntries(
        Object.entries((step.env ?? {}) as Json).map(([k, v]) => [k, substitute(String(v), ctx)]),
      );
      let result: { ok: boolean; reason?: string; outputs?: Record<string, string> };
      if (typeof step.uses === "string") {
        result = await this.#uses(step.uses, withs, { ...runnerEnv, ...stepEnv }, d, base);
      } else if (typeof step.run === "string") {
        result = await this.#run(step.run, { ...runnerEnv, ...stepEnv }, permissions);
      } else {
        throw new Unsupported(`a step without uses: or run:`);
      }
      if (typeof step.id === "string") ctx.steps[step.id] = { outputs: result.outputs ?? {} };
      if (!result.ok) {
        return { ...base, conclusion: "failure", reason: `step ${i + 1}: ${result.reason ?? ""}` };
      }
    }
    return { ...base, conclusion: "success" };
  }

  async #uses(
    uses: string,
    withs: Record<string, string>,
    env: Record<string, string>,
    d: Delivery,
    job: Omit<JobRun, "conclusion">,
  ): Promise<{ ok: boolean; reason?: string; outputs?: Record<string, string> }> {
    const [action] = uses.split("@");
    if (action === "actions/checkout") {
      checkKeys(withs, ["persist-credentials"], "actions/checkout's inputs");
      if (withs["persist-credentials"] !== "false") {
        throw new Unsupported("actions/checkout with persisted credentials");
      }
      const ws = env.GITHUB_WORKSPACE!;
      await pexec("git", ["clone", "-q", "--no-checkout", this.#w.sim.git.dir, ws]);
      await pexec("git", ["-C", ws, "checkout", "-q", "--detach", d.sha]);
      return { ok: true };
    }
    if (action === "actions/create-github-app-token") {
      checkKeys(withs, ["app-id", "private-key"], "create-github-app-token's inputs");
      // The real action fails without both; a wrong key or id gets no token from GitHub.
      if (!withs["app-id"] || !withs["private-key"]) {
        return { ok: false, reason: "Input required and not supplied: app-id / private-key" };
      }
      if (withs["app-id"] !== String(INTERLOCK_APP_ID) || withs["private-key"] !== this.#appKey) {
        return { ok: false, reason: "A JSON web token could not be decoded" };
      }
      return {
        ok: true,
        outputs: { token: this.#w.sim.token(BOT), "app-slug": BOT.replace(/\[bot\]$/, "") },
      };
    }
    if (/^[^/]+\/interlock$/.test(action ?? "")) {
      const inputs = { ...actionDefaults(), ...withs };
      const stepEnv: Record<string, string> = { ...env };
      for (const [k, v] of Object.entries(inputs)) {
        stepEnv[`INPUT_${k.replace(/ /g, "_").toUpperCase()}`] = v;
      }
      const core = new RecordingCore();
      const outcome = await run({
        settings: () => parseSettings(stepEnv),
        forgeFactory: githubForgeFactory({ pacing: "none", msPerSecond: 1 }),
        core,
        env: stepEnv,
        now: () => this.#w.clock.tick(),
      });
      job.outcomes.push(outcome);
      job.cores.push(core);
      return core.failures.length > 0
        ? { ok: false, reason: core.failures.join("\n"), outputs: core.outputs }
        : { ok: true, outputs: core.outputs };
    }
    throw new Unsupported(`the action ${uses}`);
  }

  /** A `run:` script in bash -e, with a `gh` that records its arguments. */
  async #run(
    script: string,
    env: Record<string, string>,
    permissions: unknown,
  ): Promise<{ ok: boolean; reason?: string }> {
    const bin = this.#tempDir("interlock-runner-bin-");
    const log = join(bin, "gh.log");
    writeFileSync(log, "");
    writeFileSync(
      join(bin, "gh"),
      '#!/bin/sh\nfor a in "$@"; do printf "%s\\036" "$a"; done >> "$GH_CALLS"\nprintf "\\n" >> "$GH_CALLS"\n',
    );
    chmodSync(join(bin, "gh"), 0o755);
    try {
      await pexec("bash", ["-e", "-c", script], {
        env: { ...env, PATH: `${bin}:${env.PATH}`, GH_CALLS: log },
      });
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
    for (const line of readFileSync(log, "utf8").split("\n").filter(Boolean)) {
      const args = line.split("\x1e").slice(0, -1);
      const r = this.#gh(args, env.GH_TOKEN ?? "", permissions);
      if (!r.ok) return r;
    }
    return { ok: true };
  }

  /** `gh api repos/O/R/dispatches -f event_type=T -f client_payload[k]=v`, and nothing else. */
  #gh(args: string[], token: string, permissions: unknown): { ok: boolean; reason?: string } {
    const [cmd, path, ...rest] = args;
    if (cmd !== "api" || path !== `repos/${OWNER}/${REPO}/dispatches`) {
      throw new Unsupported(`gh ${args.join(" ")}`);
    }
    const fields: Record<string, string> = {};
    for (let i = 0; i < rest.length; i += 2) {
      if (rest[i] !== "-f") throw new Unsupported(`gh api option ${rest[i]}`);
      const [k, ...v] = rest[i + 1]!.split("=");
      fields[k!] = v.join("=");
    }
    if (token !== this.#githubToken)
      throw new Unsupported("gh with a token other than GITHUB_TOKEN");
    const mayWrite =
      permissions === "write-all" ||
      (typeof permissions === "object" &&
        (permissions as Record<string, string> | null)?.contents === "write");
    if (!mayWrite)
      return { ok: false, reason: "gh: Resource not accessible by integration (HTTP 403)" };
    const clientPayload: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      const m = /^client_payload\[([^\]]+)\]$/.exec(k);
      if (m) clientPayload[m[1]!] = v;
      else if (k !== "event_type") throw new Unsupported(`the dispatch field ${k}`);
    }
    this.#enqueueDispatch(GITHUB_ACTIONS, fields.event_type ?? "", clientPayload);
    return { ok: true };
  }
}

/** The action's input defaults, from action.yml (as the runner fills them in). */
function actionDefaults(): Record<string, string> {
  const doc = parse(readFileSync(new URL("../../action.yml", import.meta.url), "utf8")) as {
    inputs: Record<string, { default?: string }>;
  };
  return Object.fromEntries(
    Object.entries(doc.inputs)
      .filter(([, i]) => i.default !== undefined)
      .map(([k, i]) => [k, String(i.default)]),
  );
}

function senderOf(login: string) {
  return user(login, login.endsWith("[bot]") ? "Bot" : "User", 5000 + login.length);
}

function checkKeys(o: object, allowed: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new Unsupported(`'${k}' in ${what}`);
  }
}

/** GitHub's default activity types, where a workflow lists none. */
const DEFAULT_TYPES: Record<string, readonly string[] | undefined> = {
  pull_request: ["opened", "synchronize", "reopened"],
  pull_request_target: ["opened", "synchronize", "reopened"],
};

/** Whether a workflow's `on:` selects the delivery (event, types, branches). */
function listensTo(doc: Json, d: Delivery): boolean {
  const on = doc.on as unknown;
  const events: Record<string, Json | null> =
    typeof on === "string"
      ? { [on]: null }
      : Array.isArray(on)
        ? Object.fromEntries(on.map((e: string) => [e, null]))
        : ((on ?? {}) as Record<string, Json | null>);
  if (!(d.name in events)) return false;
  const filter = events[d.name] ?? {};
  checkKeys(filter, ["types", "branches", "inputs"], `on.${d.name}`);
  const action = d.payload.action; // repository_dispatch: the event type
  const types = (filter.types as string[] | undefined) ?? DEFAULT_TYPES[d.name];
  if (types !== undefined && !types.includes(String(action))) return false;
  const branches = filter.branches as string[] | undefined;
  if (branches !== undefined) {
    if (branches.some((b) => /[*?[!]/.test(b))) throw new Unsupported("branch patterns");
    const branch =
      d.name === "push"
        ? d.ref.replace(/^refs\/heads\//, "")
        : String(((d.payload.pull_request as Json).base as Json).ref);
    if (!branches.includes(branch)) return false;
  }
  return true;
}

interface ExprContext {
  readonly event: Json;
  readonly secrets: Record<string, string>;
  readonly vars: Record<string, string>;
  readonly steps: Record<string, { outputs: Record<string, string> }>;
  readonly d: Delivery;
  readonly token: string;
}

/** The value of a context path (github.*, secrets.*, vars.*, steps.*.outputs.*). */
function lookup(path: string, ctx: ExprContext): string {
  const parts = path.split(".");
  const [head, ...rest] = parts;
  if (!parts.every((p) => /^[A-Za-z_][A-Za-z0-9_-]*$/.test(p))) {
    throw new Unsupported(`the expression ${path}`);
  }
  if (head === "secrets" && rest.length === 1) return ctx.secrets[rest[0]!] ?? "";
  if (head === "vars" && rest.length === 1) return ctx.vars[rest[0]!] ?? "";
  if (head === "steps" && rest.length === 3 && rest[1] === "outputs") {
    return ctx.steps[rest[0]!]?.outputs[rest[2]!] ?? "";
  }
  if (head === "github") {
    if (path === "github.token") return ctx.token;
    if (path === "github.repository") return `${OWNER}/${REPO}`;
    if (path === "github.ref") return ctx.d.ref;
    if (path === "github.sha") return ctx.d.sha;
    if (rest[0] === "event") {
      let v: unknown = ctx.event;
      for (const p of rest.slice(1)) v = (v as Json | undefined)?.[p];
      return v === undefined || v === null ? "" : String(v);
    }
  }
  throw new Unsupported(`the expression ${path}`);
}

/**
 * An expression: operands joined by `||` (the first non-empty one), each a context path, a
 * 'string', or format('…{0}…', operands).
 */
function evaluate(expr: string, ctx: ExprContext): string {
  for (const operand of expr.split("||").map((o) => o.trim())) {
    const value = operandValue(operand, ctx);
    if (value !== "") return value;
  }
  return "";
}

function operandValue(operand: string, ctx: ExprContext): string {
  const literal = /^'([^']*)'$/.exec(operand);
  if (literal) return literal[1]!;
  const format = /^format\(\s*'([^']*)'\s*((?:,\s*[\w.-]+\s*)*)\)$/.exec(operand);
  if (format) {
    const args = format[2]!
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean)
      .map((a) => lookup(a, ctx));
    return format[1]!.replace(/\{(\d+)\}/g, (_, i: string) => args[Number(i)] ?? "");
  }
  return lookup(operand, ctx);
}

/** `${{ expression }}` substitutions in a value. */
function substitute(value: string, ctx: ExprContext): string {
  return value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => evaluate(expr, ctx));
}

/** A job's `if:`: `startsWith(<path>, '<text>')` only. */
function evalCondition(expr: string, ctx: ExprContext): boolean {
  const m = /^\s*(?:\$\{\{\s*)?startsWith\(\s*([\w.-]+)\s*,\s*'([^']*)'\s*\)\s*(?:\}\}\s*)?$/.exec(
    expr,
  );
  if (!m) throw new Unsupported(`the condition ${expr}`);
  return lookup(m[1]!, ctx).toLowerCase().startsWith(m[2]!.toLowerCase());
}

/**
 * Commits the workflows docs/github.md documents to the default branch (as an administrator,
 * before the ruleset is on), where GitHub reads them from.
 */
export async function installDocumentedWorkflows(w: World, docsPath: string): Promise<string[]> {
  const files = Object.fromEntries(documentedWorkflows(docsPath));
  await w.sim.push("root", "main", files, { message: "Add the Interlock workflows" });
  return Object.keys(files);
}
