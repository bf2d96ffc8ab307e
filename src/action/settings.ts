import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { z } from "zod";
import {
  BRANCH_PREFIX,
  CORRELATION_RE,
  isRequestId,
  REQUEST_ID_SOURCE,
  requestPath,
} from "../forge/refs.ts";
import { InterlockError } from "../errors.ts";
import { maskText } from "../masking/mask.ts";
import { parseRequest } from "../request/parse.ts";
import type { Request } from "../request/schema.ts";

/**
 * Every input of the action and everything it needs from the event, parsed once, strictly, into
 * a readonly settings object (cf. actions/checkout's input-helper). The mode is decided here,
 * from the event, so the rest of the action cannot run the wrong step on the wrong event:
 * `ExecuteSettings` can only be built from a push to (or a dispatch on) the default branch.
 * Every error says what to change.
 */

/** What a step does: open a proposal, publish the gate, or execute merged requests. */
export type ActionMode = "request" | "gate" | "execute";

/** The `mode` input: a mode, or `auto` (chosen by the event). */
export const MODE_INPUT_VALUES = ["auto", "request", "gate", "execute"] as const;

/** Head branches of Interlock proposals: interlock/<ULID>. */
export const PROPOSAL_BRANCH = new RegExp(`^${BRANCH_PREFIX}(${REQUEST_ID_SOURCE})$`);

/** Events the action refuses outright, with the reason it gives. */
export const REFUSED_EVENTS: Readonly<Record<string, string>> = Object.freeze({
  workflow_run:
    "Interlock refuses to run on workflow_run: it runs with a write token after a workflow that a " +
    "pull request may have triggered, and whatever it reads from that run (artifacts, outputs, " +
    "the head branch) is controlled by the pull request. Run the gate on 'pull_request_target' " +
    "(with no checkout) and relayed reviews, and execution on 'push' to the default branch.",
});

/** The repository_dispatch type that relays a review to the gate: client_payload {id, title?}. */
export const GATE_RELAY_TYPE = "interlock-gate";
/** Pull request activity types that change what the gate sees. */
const GATED_PR_ACTIONS: ReadonlySet<string> = new Set([
  "opened",
  "synchronize",
  "reopened",
  "ready_for_review",
  "edited",
]);

interface CommonSettings {
  /** The event that started the workflow (GITHUB_EVENT_NAME). */
  readonly eventName: string;
  readonly token: string;
  /** The Interlock App's bot account ("<app-slug>[bot]"): only its proposals count. */
  readonly botLogin: string;
  /** REST API base URL (GITHUB_API_URL), without a trailing slash. */
  readonly apiUrl: string;
  readonly owner: string;
  readonly repo: string;
  readonly defaultBranch: string;
  /** GITHUB_WORKSPACE: inputs that are paths are resolved inside it. */
  readonly workspace: string;
}

/** A request arrived (workflow_dispatch or repository_dispatch): decide, mask, seal, open a PR. */
export interface RequestSettings extends CommonSettings {
  readonly mode: "request";
  /** The checked-out approvals repository (config, policies). */
  readonly repoDir: string;
  readonly request: Request;
  /** Where the request came from, for messages ("request input", "client_payload.request"). */
  readonly requestSource: string;
  /** Who dispatched it (GitHub authenticated them): the requester, bound in request mode. */
  readonly sender: { readonly login: string; readonly type: string };
  /** The repository's masking key (stable hash tokens; execution re-derives the masking). */
  readonly maskingKey: Uint8Array;
  /**
   * The caller's correlation token (client_payload.correlation), echoed in the pull request
   * and in a denial's commit, so an SDK that dispatched the request can find what it became.
   */
  readonly correlation?: string;
}

/** A GitHub login (users: letters, digits, inner hyphens; apps: "<slug>[bot]"). */
const GITHUB_LOGIN_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/;

/** A pull request changed or was reviewed: evaluate the gate and publish `interlock/gate`. */
export interface GateSettings extends CommonSettings {
  readonly mode: "gate";
  /** The request id, from the head branch interlock/<id>. */
  readonly id: string;
  /** The pull request (absent for a relayed review: the forge finds it by its branch). */
  readonly pullNumber?: number;
  /** The head the event was about (the gate itself reads the current head from the forge). */
  readonly headSha?: string;
  /**
   * Where the request file probably is, from the pull request's title ("<action> on …", as
   * Interlock files it): only a hint for reading it with the gate's first query. The gate
   * still takes the path from the pull request's changes; a wrong hint costs one more query.
   */
  readonly requestPathHint?: string;
  /**
   * The reviewer whose review the relay reports (client_payload.reviewer): only which review to
   * announce. The review itself is read from GitHub; a forged name announces nothing that did
   * not happen.
   */
  readonly reviewer?: string;
}

/** The default branch moved: execute merged requests exactly once. Never built from a PR event. */
export interface ExecuteSettings extends CommonSettings {
  readonly mode: "execute";
  readonly repoDir: string;
  /** The executor's age identities (AGE-SECRET-KEY-1…), from a secret. */
  readonly identities: readonly string[];
  /** The masking key the requests were filed with: the executor masks the sealed original again. */
  readonly maskingKey: Uint8Array;
  /** The default branch commit the run is on. */
  readonly commit: string;
}

/** Nothing to do for this event (a push to another branch, a PR that is not a proposal). */
export interface SkipSettings extends CommonSettings {
  readonly mode: "skip";
  readonly reason: string;
}

export type ActionSettings = RequestSettings | GateSettings | ExecuteSettings | SkipSettings;

/** File access for settings parsing (the event payload, a request file, repo-dir). */
export interface SettingsFs {
  readFile(path: string): string;
  isFile(path: string): boolean;
  isDirectory(path: string): boolean;
}

export const nodeSettingsFs: SettingsFs = {
  readFile: (p) => readFileSync(p, "utf8"),
  isFile: (p) => existsSync(p) && statSync(p).isFile(),
  isDirectory: (p) => existsSync(p) && statSync(p).isDirectory(),
};

/** An action input as @actions/core reads it: INPUT_<NAME upper-cased, spaces as _>, trimmed. */
export function readInput(env: NodeJS.ProcessEnv, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] ?? "").trim();
}

function settingsError(message: string, hint: string): InterlockError {
  return new InterlockError("usage", message, { hint });
}

// ---------------------------------------------------------------------------------------------
// The parts of event payloads the action reads (the payloads carry much more; see the
// fixtures in test/fixtures/github/events, validated against @octokit/webhooks-schemas).

const repositorySchema = z.looseObject({
  full_name: z.string(),
  default_branch: z.string().min(1),
});
const senderSchema = z.looseObject({ login: z.string(), type: z.string() });

const workflowDispatchSchema = z.looseObject({
  ref: z.string(),
  inputs: z.record(z.string(), z.unknown()).nullable(),
  repository: repositorySchema,
  sender: senderSchema,
});
const repositoryDispatchSchema = z.looseObject({
  action: z.string(),
  client_payload: z.record(z.string(), z.unknown()).nullable(),
  repository: repositorySchema,
  sender: senderSchema,
});
const pullRequestPart = z.looseObject({
  number: z.number().int().positive(),
  state: z.string(),
  title: z.string().optional(),
  head: z.looseObject({
    ref: z.string(),
    sha: z.string(),
    repo: z.looseObject({ full_name: z.string() }).nullable(),
  }),
  base: z.looseObject({ ref: z.string() }),
});
const pullRequestSchema = z.looseObject({
  action: z.string(),
  pull_request: pullRequestPart,
  repository: repositorySchema,
});
const pushSchema = z.looseObject({
  ref: z.string(),
  after: z.string(),
  deleted: z.boolean(),
  repository: repositorySchema,
});

function parsePayload<T extends z.ZodType>(schema: T, payload: unknown, event: string): z.infer<T> {
  const r = schema.safeParse(payload);
  if (!r.success) {
    const where = r.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`)
      .join("; ");
    throw settingsError(
      `the ${event} event payload (GITHUB_EVENT_PATH) is not what GitHub sends: ${where}`,
      "Run the action from a workflow triggered by the event itself; a hand-made payload must " +
        "follow GitHub's webhook schema.",
    );
  }
  return r.data;
}

// ---------------------------------------------------------------------------------------------

/**
 * Parses the action's inputs and event. Throws an InterlockError (code "usage") that names
 * the input or event and says what to change.
 */
export function parseSettings(
  env: NodeJS.ProcessEnv,
  fs: SettingsFs = nodeSettingsFs,
): ActionSettings {
  const eventName = env.GITHUB_EVENT_NAME ?? "";
  if (eventName === "") {
    throw settingsError(
      "GITHUB_EVENT_NAME is not set: the action runs only inside a GitHub Actions workflow",
      "Use it as a step ('uses: <owner>/interlock@v1'); to try Interlock locally, run the CLI.",
    );
  }
  const refused = REFUSED_EVENTS[eventName];
  if (refused !== undefined) {
    throw settingsError(
      refused,
      "Change the workflow's 'on:' (see docs/github.md for the three workflows).",
    );
  }

  const modeInput = readInput(env, "mode") || "auto";
  if (!(MODE_INPUT_VALUES as readonly string[]).includes(modeInput)) {
    throw settingsError(
      `input 'mode' is '${maskText(modeInput)}'; it must be one of ${MODE_INPUT_VALUES.join(", ")}`,
      "Leave 'mode' out (auto: chosen by the event) or set it to the step's intended mode.",
    );
  }
  const mode = modeInput as (typeof MODE_INPUT_VALUES)[number];

  const token = readInput(env, "token");
  if (token === "") {
    throw settingsError(
      "input 'token' is empty",
      "Pass the Interlock App's token: 'token: ${{ steps.app.outputs.token }}' (docs/github.md).",
    );
  }
  // Whose proposals count: the App's bot. GITHUB_TOKEN-only mode is not supported (it cannot
  // read teams or open pull requests under the required settings, and any writer's branch
  // workflow acts as github-actions[bot] too).
  const appSlug = readInput(env, "app-slug");
  if (!/^[a-z0-9][a-z0-9-]{0,98}$/i.test(appSlug) || appSlug.toLowerCase() === "github-actions") {
    throw settingsError(
      appSlug === ""
        ? "input 'app-slug' is empty: Interlock runs with its GitHub App's token only (GITHUB_TOKEN-only mode is not supported)"
        : `input 'app-slug' is '${maskText(appSlug)}', not a GitHub App's slug (and not github-actions)`,
      "Mint the App's token with actions/create-github-app-token@v2 and pass " +
        "'token: ${{ steps.app.outputs.token }}' and 'app-slug: ${{ steps.app.outputs.app-slug }}' (docs/github.md).",
    );
  }
  const fullName = env.GITHUB_REPOSITORY ?? "";
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(fullName);
  if (!m) {
    throw settingsError(
      `GITHUB_REPOSITORY is '${fullName}', not owner/name`,
      "The runner sets it; run the action inside a GitHub Actions workflow.",
    );
  }
  const apiUrl = (env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, "");
  if (!/^https?:\/\/[^\s]+$/.test(apiUrl)) {
    throw settingsError(
      `GITHUB_API_URL is '${apiUrl}', not an http(s) URL`,
      "The runner sets it (https://api.github.com, or your GitHub Enterprise Server's /api/v3).",
    );
  }
  const workspace = resolve(env.GITHUB_WORKSPACE || process.cwd());
  const eventPath = env.GITHUB_EVENT_PATH ?? "";
  if (eventPath === "" || !fs.isFile(eventPath)) {
    throw settingsError(
      `GITHUB_EVENT_PATH ('${eventPath}') does not name the event payload file`,
      "The runner sets it; run the action inside a GitHub Actions workflow.",
    );
  }
  let payload: unknown;
  try {
    payload = JSON.parse(fs.readFile(eventPath));
  } catch (err) {
    throw settingsError(
      `the event payload ${eventPath} is not JSON (${(err as Error).message})`,
      "The runner writes it; run the action inside a GitHub Actions workflow.",
    );
  }

  const base = (defaultBranch: string): CommonSettings => ({
    eventName,
    token,
    botLogin: `${appSlug}[bot]`,
    apiUrl,
    owner: m[1]!,
    repo: m[2]!,
    defaultBranch,
    workspace,
  });
  const wrongMode = (want: ActionMode, allowedEvents: string) =>
    settingsError(
      `input 'mode' is '${mode}', but this step runs on '${eventName}', which is a ${want} event`,
      `Mode ${mode} runs on ${allowedEvents}. Fix the workflow's 'on:' or leave 'mode' out.`,
    );

  switch (eventName) {
    case "workflow_dispatch": {
      const p = parsePayload(workflowDispatchSchema, payload, eventName);
      const common = base(p.repository.default_branch);
      requireDefaultRef(p.ref, common.defaultBranch, eventName);
      if (mode === "gate") throw wrongMode("request", "pull_request and pull_request_review");
      if (mode === "execute") return executeSettings(common, env, fs, env.GITHUB_SHA ?? "");
      const fromInputs = p.inputs?.request;
      return requestSettings(common, env, fs, p.sender, {
        input: readInput(env, "request"),
        payload: typeof fromInputs === "string" ? fromInputs : undefined,
        payloadSource: "the workflow_dispatch input 'request'",
      });
    }
    case "repository_dispatch": {
      const p = parsePayload(repositoryDispatchSchema, payload, eventName);
      const common = base(p.repository.default_branch);
      if (p.action === GATE_RELAY_TYPE) {
        // A review, relayed by a job without secrets to this default-branch job. Anyone who may
        // dispatch can send one: it only makes the gate evaluate the proposal again.
        if (mode === "request" || mode === "execute") {
          throw wrongMode("gate", `repository_dispatch of type ${GATE_RELAY_TYPE}`);
        }
        const id = p.client_payload?.id;
        if (typeof id !== "string" || !isRequestId(id)) {
          return { ...common, mode: "skip", reason: "the relayed event names no request id" };
        }
        // The relay may pass the pull request's title too: a hint where the file is.
        const hint = requestPathHint(p.client_payload?.title, id);
        const reviewer = p.client_payload?.reviewer;
        return {
          ...common,
          mode: "gate",
          id,
          ...(hint ? { requestPathHint: hint } : {}),
          ...(typeof reviewer === "string" && GITHUB_LOGIN_RE.test(reviewer) ? { reviewer } : {}),
        };
      }
      if (mode === "gate" || mode === "execute") {
        throw wrongMode("request", "workflow_dispatch and repository_dispatch");
      }
      const fromPayload = p.client_payload?.request;
      const correlation = p.client_payload?.correlation;
      if (
        correlation !== undefined &&
        (typeof correlation !== "string" || !CORRELATION_RE.test(correlation))
      ) {
        throw settingsError(
          "client_payload.correlation must be 16 to 64 letters, digits, '_' or '-'",
          "Send a random token (the SDK sends 32 hex digits), or leave correlation out.",
        );
      }
      return requestSettings(common, env, fs, p.sender, {
        ...(correlation ? { correlation } : {}),
        input: readInput(env, "request"),
        payload:
          fromPayload === undefined || fromPayload === null
            ? undefined
            : typeof fromPayload === "string"
              ? fromPayload
              : JSON.stringify(fromPayload),
        payloadSource: "client_payload.request",
      });
    }
    // pull_request_target runs the default branch's workflow with its environment (the App's
    // key), where the gate is safe because it reads only the API, never the pull request's
    // content; it never requests or executes.
    case "pull_request_target":
    case "pull_request":
    case "pull_request_review": {
      const p = parsePayload(pullRequestSchema, payload, eventName);
      const common = base(p.repository.default_branch);
      if (mode === "execute") {
        throw settingsError(
          `input 'mode' is 'execute', but this step runs on '${eventName}': execution never runs ` +
            "on pull request events (the pull request's content is not yet approved, and its " +
            "author controls it)",
          "Execute on 'push' to the default branch (see docs/github.md), and leave 'mode' out here.",
        );
      }
      if (mode === "request") throw wrongMode("gate", "workflow_dispatch and repository_dispatch");
      return gateSettings(common, eventName, p);
    }
    case "push": {
      const p = parsePayload(pushSchema, payload, eventName);
      const common = base(p.repository.default_branch);
      if (mode === "request" || mode === "gate") {
        throw wrongMode("execute", "push (to the default branch) and workflow_dispatch");
      }
      if (p.ref !== `refs/heads/${common.defaultBranch}`) {
        return {
          ...common,
          mode: "skip",
          reason: `push to ${p.ref}, not to the default branch ${common.defaultBranch}: nothing to execute`,
        };
      }
      if (p.deleted) return { ...common, mode: "skip", reason: "the push deleted the branch" };
      return executeSettings(common, env, fs, p.after);
    }
    default:
      throw settingsError(
        `Interlock does not run on '${eventName}' events`,
        "Requests arrive on workflow_dispatch or repository_dispatch, the gate runs on " +
          "pull_request and pull_request_review, execution on push to the default branch " +
          "(see docs/github.md).",
      );
  }
}

/** workflow_dispatch may be started on any ref; policies must come from the default branch. */
function requireDefaultRef(ref: string, defaultBranch: string, event: string): void {
  if (ref !== `refs/heads/${defaultBranch}`) {
    throw settingsError(
      `this ${event} run is on ${ref}, not on the default branch ${defaultBranch}: the policies ` +
        "and config that decide must be the reviewed ones on the default branch",
      `Run the workflow on ${defaultBranch} ('gh workflow run <workflow> --ref ${defaultBranch}').`,
    );
  }
}

function repoDirOf(common: CommonSettings, env: NodeJS.ProcessEnv, fs: SettingsFs): string {
  const raw = readInput(env, "repo-dir") || ".";
  const dir = resolve(common.workspace, raw);
  if (!fs.isDirectory(dir)) {
    throw settingsError(
      `input 'repo-dir' is '${raw}', but ${dir} is not a directory`,
      "Check out the approvals repository first ('uses: actions/checkout@v4') and point " +
        "'repo-dir' at it (default: the workspace).",
    );
  }
  return dir;
}

function requestSettings(
  common: CommonSettings,
  env: NodeJS.ProcessEnv,
  fs: SettingsFs,
  sender: { login: string; type: string },
  from: {
    input: string;
    payload: string | undefined;
    payloadSource: string;
    correlation?: string;
  },
): RequestSettings {
  const repoDir = repoDirOf(common, env, fs);
  let text: string;
  let source: string;
  if (from.input !== "") {
    ({ text, source } = requestFromInput(from.input, common.workspace, fs));
  } else if (from.payload !== undefined && from.payload.trim() !== "") {
    text = from.payload;
    source = from.payloadSource;
  } else {
    throw settingsError(
      `no request: the 'request' input is empty and the event has no ${from.payloadSource}`,
      common.eventName === "repository_dispatch"
        ? "Send the request as client_payload.request: gh api repos/OWNER/REPO/dispatches " +
            "-f event_type=interlock-request -F 'client_payload[request]=@request.json'."
        : "Give the request file's path or its YAML/JSON in the workflow_dispatch input 'request' " +
            '(gh workflow run interlock-request.yml -f request="$(cat request.yaml)").',
    );
  }
  // Who the sender may file as is bound against the configuration in request mode
  // (bindDispatcher), where the configuration is read.
  const request = parseRequest(text, { source });
  return {
    ...common,
    mode: "request",
    repoDir,
    request,
    requestSource: source,
    sender: { login: sender.login, type: sender.type },
    maskingKey: maskingKeyOf(env),
    ...(from.correlation ? { correlation: from.correlation } : {}),
  };
}

/**
 * The `request` input: the request itself (YAML or JSON) or the path of a request file in the
 * workspace. Text is recognised by a newline, a leading `{`, or a `key: value` pair.
 */
function requestFromInput(
  value: string,
  workspace: string,
  fs: SettingsFs,
): { text: string; source: string } {
  if (value.includes("\n") || value.startsWith("{") || /:\s/.test(value)) {
    return { text: value, source: "the 'request' input" };
  }
  const path = resolve(workspace, value);
  const rel = relative(workspace, path);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw settingsError(
      `input 'request' names ${maskText(value)}, which is outside the workspace`,
      "Give a path relative to the workspace, or the request's YAML/JSON itself.",
    );
  }
  if (!fs.isFile(path)) {
    throw settingsError(
      `input 'request' names ${maskText(value)}, but there is no such file in the workspace`,
      "Give the path of a request file relative to the workspace (check it out first), or the " +
        "request's YAML/JSON itself.",
    );
  }
  return { text: fs.readFile(path), source: rel };
}

const MASKING_KEY = /^[0-9a-f]{64}$/;

/**
 * The masking key, required in request and execute modes: hash tokens must be stable across
 * requests, and the executor re-derives the masked request from the sealed original with the
 * same key before it runs anything.
 */
function maskingKeyOf(env: NodeJS.ProcessEnv): Uint8Array {
  const hex = readInput(env, "masking-key").toLowerCase();
  if (hex === "") {
    throw settingsError(
      "input 'masking-key' is empty: requests are masked with the repository's key, and the " +
        "executor masks the sealed original again with the same key before it runs anything",
      "Store a key as a secret once (openssl rand -hex 32) and pass it to the request and execute " +
        "steps: 'masking-key: ${{ secrets.INTERLOCK_MASKING_KEY }}'.",
    );
  }
  if (!MASKING_KEY.test(hex)) {
    throw settingsError(
      "input 'masking-key' must be 64 hex characters (32 bytes)",
      "Store the repository's key as a secret (openssl rand -hex 32) and pass it: " +
        "'masking-key: ${{ secrets.INTERLOCK_MASKING_KEY }}'. A new key changes every hash token.",
    );
  }
  return Buffer.from(hex, "hex");
}

function executeSettings(
  common: CommonSettings,
  env: NodeJS.ProcessEnv,
  fs: SettingsFs,
  commit: string,
): ExecuteSettings {
  const repoDir = repoDirOf(common, env, fs);
  const raw = readInput(env, "executor-identity");
  const identities = raw
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  if (identities.length === 0) {
    throw settingsError(
      "input 'executor-identity' is empty: execution needs the executor's age identity to unseal " +
        "the approved params",
      "Store the identity (AGE-SECRET-KEY-1…, whose recipient is in .interlock/config.yaml) as a " +
        "secret and pass it: 'executor-identity: ${{ secrets.INTERLOCK_EXECUTOR_IDENTITY }}'.",
    );
  }
  const bad = identities.findIndex((l) => !/^AGE-SECRET-KEY-1[0-9A-Z]+$/.test(l));
  if (bad !== -1) {
    throw settingsError(
      `input 'executor-identity', line ${bad + 1}, is not an age identity (AGE-SECRET-KEY-1…)`,
      "Pass the identity file's content as it is (comment lines starting with # are ignored).",
    );
  }
  return {
    ...common,
    mode: "execute",
    repoDir,
    identities,
    maskingKey: maskingKeyOf(env),
    commit,
  };
}

function gateSettings(
  common: CommonSettings,
  eventName: string,
  p: z.infer<typeof pullRequestSchema>,
): GateSettings | SkipSettings {
  const pr = p.pull_request;
  const skip = (reason: string): SkipSettings => ({ ...common, mode: "skip", reason });
  if (
    (eventName === "pull_request" || eventName === "pull_request_target") &&
    !GATED_PR_ACTIONS.has(p.action)
  ) {
    return skip(`pull_request '${p.action}' does not change what the gate sees`);
  }
  if (pr.state !== "open") return skip(`pull request #${pr.number} is ${pr.state}`);
  const branch = PROPOSAL_BRANCH.exec(pr.head.ref);
  const fullName = `${common.owner}/${common.repo}`;
  if (!branch) {
    return skip(
      `pull request #${pr.number} is not an Interlock proposal (its head branch is not ` +
        `interlock/<id>), so interlock/gate is not published for it and a branch protection ` +
        "that requires it keeps it unmergeable",
    );
  }
  if (pr.head.repo?.full_name.toLowerCase() !== fullName.toLowerCase()) {
    return skip(
      `pull request #${pr.number} comes from another repository (${pr.head.repo?.full_name ?? "deleted"}); ` +
        `Interlock proposals are only ever branches of ${fullName}`,
    );
  }
  if (pr.base.ref !== common.defaultBranch) {
    return skip(
      `pull request #${pr.number} targets ${pr.base.ref}, not the default branch ${common.defaultBranch}`,
    );
  }
  const hint = requestPathHint(pr.title, branch[1]!);
  return {
    ...common,
    mode: "gate",
    id: branch[1]!,
    pullNumber: pr.number,
    headSha: pr.head.sha,
    ...(hint ? { requestPathHint: hint } : {}),
  };
}

/**
 * The request file's probable path from a pull request title as Interlock files it
 * ("<action> on <resource> [risk]"); undefined for any other title. Only ever a hint.
 */
function requestPathHint(title: unknown, id: string): string | undefined {
  if (typeof title !== "string") return undefined;
  const action = /^([a-z0-9_.-]{1,100}) on /.exec(title)?.[1];
  return action === undefined ? undefined : requestPath(action, id);
}
