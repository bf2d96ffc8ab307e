import { existsSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { renderReportComment, renderVerdictMarkdown } from "../src/action/render.ts";
import { run, executorEnvironment, type ForgeTarget } from "../src/action/run.ts";
import { parseSettings, type ActionSettings } from "../src/action/settings.ts";
import { initRepository } from "../src/lifecycle/init.ts";
import { loadConfig } from "../src/config/config.ts";
import { EXAMPLES } from "./e2e-helpers.ts";
import { EXECUTION_CALLS, MemoryForge, RecordingCore, runnerEnv } from "./github-action-doubles.ts";
import {
  pullRequestEvent,
  pullRequestReviewEvent,
  pushEvent,
  repositoryDispatchEvent,
  REQUEST_ID,
  workflowDispatchEvent,
} from "./github-events.ts";
import { tempDir } from "./helpers.ts";

const require = createRequire(import.meta.url);
const NOW = new Date("2026-11-24T10:00:00.000Z");
const EXPORT_YAML = readFileSync(join(EXAMPLES, "export-customers.yaml"), "utf8");
const SELF_GRANT_YAML = readFileSync(join(EXAMPLES, "self-grant.yaml"), "utf8");

// ---------------------------------------------------------------------------------------------
// The payloads the tests use are what GitHub sends: validated against the webhook schemas.

describe("event fixtures", () => {
  const schema = require("@octokit/webhooks-schemas") as object;
  const Ajv = (require("ajv") as { default: new (o: object) => AjvLike }).default;
  const addFormats = (require("ajv-formats") as { default: (a: AjvLike) => void }).default;
  interface AjvLike {
    addSchema(s: object, key: string): void;
    getSchema(ref: string): ((v: unknown) => boolean) & { errors?: unknown };
  }
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(schema, "webhooks");
  const validate = (definition: string, payload: unknown) => {
    const v = ajv.getSchema(`webhooks#/definitions/${definition}`);
    const ok = v(payload);
    return { ok, errors: v.errors };
  };

  const cases: [string, unknown][] = [
    ["workflow_dispatch$event", workflowDispatchEvent()],
    ["workflow_dispatch$event", workflowDispatchEvent({ inputs: { request: EXPORT_YAML } })],
    ["workflow_dispatch$event", workflowDispatchEvent({ inputs: null, ref: "refs/heads/x" })],
    [
      "repository_dispatch$event",
      repositoryDispatchEvent({ clientPayload: { request: parseYaml(EXPORT_YAML) } }),
    ],
    ["repository_dispatch$event", repositoryDispatchEvent({ senderType: "Bot" })],
    ["push$event", pushEvent()],
    ["push$event", pushEvent({ ref: "refs/heads/feature", deleted: true })],
    ["pull_request$opened", pullRequestEvent()],
    [
      "pull_request$opened",
      pullRequestEvent({ headRef: "policy-tweak", headRepo: "eve/approvals" }),
    ],
    ["pull_request$synchronize", pullRequestEvent({ action: "synchronize" })],
    ["pull_request$reopened", pullRequestEvent({ action: "reopened" })],
    ["pull_request$closed", pullRequestEvent({ action: "closed" })],
    ["pull_request_review$submitted", pullRequestReviewEvent()],
    ["pull_request_review$submitted", pullRequestReviewEvent({ review: "changes_requested" })],
  ];
  it.each(cases.map(([d, p], i) => [`${i}: ${d}`, d, p] as const))(
    "%s validates against @octokit/webhooks-schemas",
    (_label, definition, payload) => {
      const r = validate(definition, payload);
      expect(r.errors ?? null).toBeNull();
      expect(r.ok).toBe(true);
    },
  );

  it("the validator is not vacuous: a payload without a repository is rejected", () => {
    const { repository: _r, ...broken } = pushEvent();
    expect(validate("push$event", broken).ok).toBe(false);
    expect(validate("pull_request$opened", { ...pullRequestEvent(), number: "7" }).ok).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------

let repoDir: string;
let identity: string;

beforeAll(async () => {
  repoDir = join(tempDir("interlock-action-repo-"), "approvals");
  const init = await initRepository(repoDir, NOW, { home: tempDir("interlock-action-home-") });
  identity = readFileSync(join(init.home, "executor.key"), "utf8");
  mkdirSync(join(repoDir, "incoming"), { recursive: true });
  writeFileSync(join(repoDir, "incoming", "export.yaml"), EXPORT_YAML);
});

const KEY = "ab".repeat(32);

/** Settings from a runner-like environment; the masking key is given unless the test says. */
function settingsFor(
  event: string,
  payload: unknown,
  inputs: Record<string, string> = {},
): ActionSettings {
  return parseSettings(runnerEnv(event, payload, { "masking-key": KEY, ...inputs }, repoDir));
}

function expectUsage(fn: () => unknown, message: RegExp, hint?: RegExp) {
  try {
    fn();
  } catch (err) {
    const e = err as { code?: string; message: string; hint?: string };
    expect(e.code).toBe("usage");
    expect(e.message).toMatch(message);
    if (hint) expect(e.hint).toMatch(hint);
    return e;
  }
  throw new Error("expected a settings error");
}

describe("settings: inputs and the event parsed once", () => {
  it("workflow_dispatch → request mode, from inline YAML, a workspace path, or inputs.request", () => {
    const inline = settingsFor("workflow_dispatch", workflowDispatchEvent(), {
      request: EXPORT_YAML,
      "masking-key": KEY,
    });
    expect(inline.mode).toBe("request");
    if (inline.mode !== "request") return;
    expect(inline.request.action).toBe("db.export");
    expect(inline.requestSource).toBe("the 'request' input");
    expect(inline.maskingKey).toHaveLength(32);
    expect(inline.repoDir).toBe(repoDir);
    expect(Object.isFrozen(inline.request)).toBe(true);

    const path = settingsFor("workflow_dispatch", workflowDispatchEvent(), {
      request: "incoming/export.yaml",
    });
    expect(path.mode === "request" && path.requestSource).toBe(join("incoming", "export.yaml"));

    const fromInputs = settingsFor(
      "workflow_dispatch",
      workflowDispatchEvent({ inputs: { request: EXPORT_YAML } }),
    );
    expect(fromInputs.mode === "request" && fromInputs.request.resource).toBe(
      "postgres://prod/customers",
    );
  });

  it("repository_dispatch → request mode from client_payload.request (object or text)", () => {
    const asObject = settingsFor(
      "repository_dispatch",
      repositoryDispatchEvent({ clientPayload: { request: parseYaml(EXPORT_YAML) } }),
    );
    expect(asObject.mode === "request" && asObject.requestSource).toBe("client_payload.request");
    const asText = settingsFor(
      "repository_dispatch",
      repositoryDispatchEvent({ clientPayload: { request: EXPORT_YAML } }),
    );
    expect(asText.mode === "request" && asText.request.action).toBe("db.export");
  });

  it("client_payload.correlation is echoed only when it is a plain token: markup is refused", () => {
    const request = parseYaml(EXPORT_YAML) as unknown;
    const ok = settingsFor(
      "repository_dispatch",
      repositoryDispatchEvent({ clientPayload: { request, correlation: "a1".repeat(16) } }),
    );
    expect(ok.mode === "request" && ok.correlation).toBe("a1".repeat(16));
    for (const bad of [
      "short",
      "<!-- x -->0123456789abcdef",
      "a".repeat(65),
      42,
      "ab\ncd".repeat(8),
    ]) {
      expectUsage(
        () =>
          settingsFor(
            "repository_dispatch",
            repositoryDispatchEvent({ clientPayload: { request, correlation: bad } }),
          ),
        /client_payload\.correlation must be 16 to 64/,
      );
    }
  });

  it("a request in client_payload is parsed strictly, never trusted as an object", () => {
    const evil = JSON.parse(
      JSON.stringify({ ...parseYaml(EXPORT_YAML), extra: 1 }).replace(
        '"extra":1',
        '"__proto__":{"admin":true}',
      ),
    ) as Record<string, unknown>;
    const err = (() => {
      try {
        settingsFor(
          "repository_dispatch",
          repositoryDispatchEvent({ clientPayload: { request: evil } }),
        );
      } catch (e) {
        return e as { code: string; message: string };
      }
      return undefined;
    })();
    expect(err?.code).toBe("request.invalid");
    expect(err?.message).toMatch(/client_payload\.request/);
  });

  it("pull_request and pull_request_review → gate mode for interlock/<id> branches", () => {
    const pr = settingsFor("pull_request", pullRequestEvent());
    expect(pr).toMatchObject({ mode: "gate", id: REQUEST_ID, pullNumber: 7 });
    const review = settingsFor("pull_request_review", pullRequestReviewEvent({ number: 9 }));
    expect(review).toMatchObject({ mode: "gate", id: REQUEST_ID, pullNumber: 9 });
    expect(settingsFor("pull_request", pullRequestEvent({ action: "synchronize" })).mode).toBe(
      "gate",
    );
  });

  it("PRs that are not Interlock proposals are skipped, never gated as one", () => {
    const cases = [
      pullRequestEvent({ headRef: "policy-tweak" }),
      pullRequestEvent({ headRepo: "eve/approvals" }), // a fork's branch named interlock/<id>
      pullRequestEvent({ baseRef: "release" }),
      pullRequestEvent({ action: "closed" }),
      pullRequestEvent({ headRef: `interlock/${REQUEST_ID}-x` }),
    ];
    const reasons = cases.map((p) => {
      const s = settingsFor("pull_request", p);
      expect(s.mode).toBe("skip");
      return s.mode === "skip" ? s.reason : "";
    });
    expect(reasons[0]).toMatch(/not an Interlock proposal/);
    expect(reasons[1]).toMatch(/another repository \(eve\/approvals\)/);
    expect(reasons[2]).toMatch(/targets release/);
  });

  it("gate mode never reads the checkout (on a PR event it is the PR's content)", () => {
    const s = settingsFor("pull_request", pullRequestEvent(), { "repo-dir": "does-not-exist" });
    expect(s.mode).toBe("gate");
    expect("repoDir" in s).toBe(false);
  });

  it("push to the default branch → execute mode; other pushes are skipped", () => {
    const s = settingsFor("push", pushEvent(), { "executor-identity": identity });
    expect(s).toMatchObject({ mode: "execute", commit: pushEvent().after });
    expect(s.mode === "execute" && s.identities).toHaveLength(1);
    expect(settingsFor("push", pushEvent({ ref: "refs/heads/feature" })).mode).toBe("skip");
    expect(settingsFor("push", pushEvent({ ref: "refs/tags/v1" })).mode).toBe("skip");
  });

  it("refuses workflow_run, explaining why; pull_request_target only ever gates", () => {
    expectUsage(
      () => settingsFor("workflow_run", pushEvent()),
      /refuses to run on workflow_run.*controlled by the pull request/s,
    );
    const gate = settingsFor(
      "pull_request_target",
      pullRequestEvent({ headRef: "interlock/01KAW5W2Z6QMY1HG7V8X9Y0ABC" }),
    );
    expect(gate.mode).toBe("gate");
    expectUsage(
      () => settingsFor("pull_request_target", pullRequestEvent(), { mode: "execute" }),
      /execution never runs on pull request events/,
    );
  });

  it("as a repository writer's GITHUB_TOKEN workflow: without the App's slug the action does not run (no GITHUB_TOKEN-only mode)", () => {
    for (const slug of ["", "github-actions", "not a slug"]) {
      expectUsage(
        () => settingsFor("pull_request_target", pullRequestEvent(), { "app-slug": slug }),
        /input 'app-slug'/,
        /create-github-app-token/,
      );
    }
    expect(
      (settingsFor("push", pushEvent(), { "executor-identity": identity }) as { botLogin: string })
        .botLogin,
    ).toBe("interlock-app[bot]");
  });

  it("a relayed review (repository_dispatch interlock-gate) evaluates the gate of the id it names", () => {
    const relay = (clientPayload: Record<string, unknown>) =>
      settingsFor(
        "repository_dispatch",
        repositoryDispatchEvent({
          sender: "github-actions[bot]",
          senderType: "Bot",
          clientPayload,
          eventType: "interlock-gate",
        }),
      );
    expect(relay({ id: "01KAW5W2Z6QMY1HG7V8X9Y0ABC" })).toMatchObject({
      mode: "gate",
      id: "01KAW5W2Z6QMY1HG7V8X9Y0ABC",
    });
    expect(relay({ id: "../../etc" }).mode).toBe("skip");
    // The title is only a hint where the request file is (a wrong one costs the gate a query).
    expect(
      relay({ id: "01KAW5W2Z6QMY1HG7V8X9Y0ABC", title: "db.export on postgres://x [high]" }),
    ).toMatchObject({ requestPathHint: "requests/db.export/01KAW5W2Z6QMY1HG7V8X9Y0ABC.yaml" });
    expect(relay({ id: "01KAW5W2Z6QMY1HG7V8X9Y0ABC", title: "../x on y" })).not.toHaveProperty(
      "requestPathHint",
    );
  });

  it("errors name the input or event and say what to fix", () => {
    const wd = workflowDispatchEvent();
    expectUsage(() => settingsFor("issues", wd), /does not run on 'issues'/, /workflow_dispatch/);
    expectUsage(
      () => settingsFor("workflow_dispatch", wd, { mode: "merge" }),
      /input 'mode' is 'merge'.*auto, request, gate, execute/,
    );
    expectUsage(
      () => settingsFor("workflow_dispatch", wd, { token: "" }),
      /input 'token' is empty/,
      /the Interlock App's token/,
    );
    expectUsage(() => settingsFor("workflow_dispatch", wd), /no request/, /gh workflow run/);
    expectUsage(
      () => settingsFor("repository_dispatch", repositoryDispatchEvent()),
      /no request/,
      /client_payload\[request\]/,
    );
    expectUsage(
      () => settingsFor("workflow_dispatch", wd, { request: "../../etc/passwd" }),
      /outside the workspace/,
    );
    expectUsage(
      () => settingsFor("workflow_dispatch", wd, { request: "incoming/missing.yaml" }),
      /no such file in the workspace/,
    );
    expectUsage(
      () => settingsFor("workflow_dispatch", wd, { request: EXPORT_YAML, "repo-dir": "nope" }),
      /input 'repo-dir' is 'nope'/,
      /actions\/checkout/,
    );
    expectUsage(
      () => settingsFor("workflow_dispatch", wd, { request: EXPORT_YAML, "masking-key": "abc" }),
      /masking-key' must be 64 hex/,
      /secrets\.INTERLOCK_MASKING_KEY/,
    );
    expectUsage(
      () =>
        settingsFor("workflow_dispatch", workflowDispatchEvent({ ref: "refs/heads/evil" }), {
          request: EXPORT_YAML,
        }),
      /on refs\/heads\/evil, not on the default branch main/,
      /--ref main/,
    );
    expectUsage(
      () => settingsFor("workflow_dispatch", wd, { request: EXPORT_YAML, "masking-key": "" }),
      /masking-key' is empty.*masks the sealed original again/s,
      /openssl rand -hex 32/,
    );
    expectUsage(
      () => settingsFor("push", pushEvent(), { "executor-identity": identity, "masking-key": "" }),
      /masking-key' is empty/,
    );
    expectUsage(
      () => settingsFor("push", pushEvent()),
      /executor-identity' is empty/,
      /secrets\.INTERLOCK_EXECUTOR_IDENTITY/,
    );
    expectUsage(
      () => settingsFor("push", pushEvent(), { "executor-identity": `${identity}\nnope` }),
      /line 2, is not an age identity/,
    );
    expectUsage(
      () => settingsFor("push", { ...pushEvent(), repository: { name: "x" } }),
      /push event payload.*repository/,
    );
    const env = runnerEnv("push", pushEvent(), {}, repoDir);
    expectUsage(
      () => parseSettings({ ...env, GITHUB_REPOSITORY: "nope" }),
      /GITHUB_REPOSITORY is 'nope'/,
    );
    expectUsage(
      () => parseSettings({ ...env, GITHUB_EVENT_PATH: join(repoDir, "none.json") }),
      /GITHUB_EVENT_PATH/,
    );
    expectUsage(() => parseSettings({}), /GITHUB_EVENT_NAME is not set/);
  });

  it("secrets are never echoed in errors", () => {
    const secretKey = "zz" + "9".repeat(62);
    const e = expectUsage(
      () =>
        settingsFor("workflow_dispatch", workflowDispatchEvent(), {
          request: EXPORT_YAML,
          "masking-key": secretKey,
        }),
      /masking-key/,
    );
    expect(JSON.stringify(e)).not.toContain(secretKey);
    const id = "AGE-SECRET-KEY-1SECRETSECRET lowercase";
    const e2 = expectUsage(
      () => settingsFor("push", pushEvent(), { "executor-identity": id }),
      /not an age identity/,
    );
    expect(e2.message).not.toContain("SECRETSECRET");
  });

  it("an explicit mode must agree with the event: PR events never execute", () => {
    for (const [event, payload] of [
      ["pull_request", pullRequestEvent()],
      ["pull_request_review", pullRequestReviewEvent()],
    ] as const) {
      expectUsage(
        () => settingsFor(event, payload, { mode: "execute", "executor-identity": identity }),
        /execution never runs on pull request events/,
        /push/,
      );
      expectUsage(() => settingsFor(event, payload, { mode: "request" }), /which is a gate event/);
    }
    expectUsage(
      () => settingsFor("push", pushEvent(), { mode: "gate" }),
      /which is a execute event|which is an? execute event/,
    );
    expectUsage(
      () => settingsFor("repository_dispatch", repositoryDispatchEvent(), { mode: "execute" }),
      /which is a request event/,
    );
    // workflow_dispatch with mode execute: a manual re-run of execution on the default branch.
    expect(
      settingsFor("workflow_dispatch", workflowDispatchEvent(), {
        mode: "execute",
        "executor-identity": identity,
      }).mode,
    ).toBe("execute");
  });
});

// ---------------------------------------------------------------------------------------------

function harness() {
  const forge = new MemoryForge();
  forge.config = loadConfig(repoDir);
  const core = new RecordingCore();
  const targets: ForgeTarget[] = [];
  const deps = (
    settings: ActionSettings | (() => ActionSettings),
    env: NodeJS.ProcessEnv = {},
  ) => ({
    settings,
    forgeFactory: (t: ForgeTarget) => {
      targets.push(t);
      return forge;
    },
    core,
    env,
    now: () => NOW,
  });
  return { forge, core, targets, deps };
}

describe("run: the requester is whoever dispatched it, the sponsor comes from the config", () => {
  const dispatch = (sender: string, senderType: "User" | "Bot", request = EXPORT_YAML) =>
    settingsFor(
      "repository_dispatch",
      repositoryDispatchEvent({ sender, senderType, clientPayload: { request } }),
      { "masking-key": KEY },
    );

  it("the agent's own account files as the agent, for the sponsor the config binds to it", async () => {
    const { forge, core, deps } = harness();
    const out = await run(deps(dispatch("etl-bot", "User")));
    expect(out).toMatchObject({ mode: "request", denied: false });
    expect(core.failures).toEqual([]);
    expect(forge.proposals.get(core.outputs.id!)!.content).toMatch(/on_behalf_of: alice/);
  });

  it("the sponsor may dispatch their own agent's request (and is excluded as its sponsor)", async () => {
    const { forge, core, deps } = harness();
    const s = settingsFor("workflow_dispatch", workflowDispatchEvent({ sender: "Alice" }), {
      request: EXPORT_YAML,
      "masking-key": KEY,
    });
    expect(await run(deps(s))).toMatchObject({ mode: "request", denied: false });
    expect(forge.proposals.get(core.outputs.id!)!.content).toMatch(/on_behalf_of: alice/);
  });

  it("as the requester, dispatching another sponsor's agent request: refused, nothing filed", async () => {
    const { forge, core, deps } = harness();
    const s = settingsFor("workflow_dispatch", workflowDispatchEvent({ sender: "dana" }), {
      request: EXPORT_YAML,
    });
    expect(await run(deps(s))).toMatchObject({ mode: "failed" });
    expect(forge.calls).toEqual([]);
    expect(core.failures[0]).toMatch(/dana dispatched this request, which cannot be filed/);
  });

  it("as a bot dispatching with no human bound behind it: refused, nothing filed", async () => {
    const { forge, core, deps } = harness();
    expect(await run(deps(dispatch("agents[bot]", "Bot")))).toMatchObject({ mode: "failed" });
    expect(forge.calls).toEqual([]);
    expect(core.failures[0]).toMatch(/agents\[bot\] is neither a person nor an agent/);
  });

  it("as the agent, naming a sponsor of its choosing: refused (an agent does not choose its sponsor)", async () => {
    const { forge, core, deps } = harness();
    const other = EXPORT_YAML.replace(/on_behalf_of: alice/, "on_behalf_of: pat");
    expect(other).not.toBe(EXPORT_YAML);
    expect(await run(deps(dispatch("etl-bot", "User", other)))).toMatchObject({ mode: "failed" });
    expect(forge.calls).toEqual([]);
    expect(core.failures[0]).toMatch(/does not choose its sponsor/);
  });
});

describe("run: dispatch by event", () => {
  it("request mode files a masked proposal and sets the outputs", async () => {
    const { forge, core, targets, deps } = harness();
    const s = settingsFor("workflow_dispatch", workflowDispatchEvent(), {
      request: EXPORT_YAML,
      "masking-key": KEY,
    });
    const out = await run(deps(s));
    expect(out).toMatchObject({ mode: "request", denied: false });
    expect(core.failures).toEqual([]);
    expect(forge.calls).toEqual(["openProposal"]);
    expect(targets[0]).toMatchObject({ owner: "acme", repo: "approvals", defaultBranch: "main" });
    const id = core.outputs.id!;
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(JSON.parse(core.outputs.decision!)).toMatchObject({ allow: true, risk: "high" });
    const proposal = forge.proposals.get(id)!;
    expect(proposal.path).toBe(`requests/db.export/${id}.yaml`);
    // Nothing sensitive reaches the proposal or the job summary.
    for (const text of [proposal.content, core.summaries.join("\n")]) {
      expect(text).not.toContain("jane.doe@example.com");
      expect(text).not.toContain("202-555-0143");
    }
    expect(core.summaries[0]).toMatch(/Request `.*` filed/);
    expect(core.warnings).toEqual([]);
  });

  it("a denial is recorded on the default branch and fails the step", async () => {
    const { forge, core, deps } = harness();
    const s = settingsFor("workflow_dispatch", workflowDispatchEvent({ sender: "pat" }), {
      request: SELF_GRANT_YAML,
    });
    const out = await run(deps(s));
    expect(out).toMatchObject({ mode: "request", denied: true });
    expect(forge.calls).toEqual(["recordDenial"]);
    expect(core.failures[0]).toMatch(/Denied by policy and recorded as evidence in denials\//);
    expect(JSON.parse(core.outputs.decision!).allow).toBe(false);
  });

  it("gate mode evaluates and publishes interlock/gate, and writes the job summary", async () => {
    const { forge, core, deps } = harness();
    await run(
      deps(
        settingsFor("workflow_dispatch", workflowDispatchEvent(), {
          request: EXPORT_YAML,
          "masking-key": KEY,
        }),
      ),
    );
    const id = core.outputs.id!;
    const gate = (reviewer?: string) =>
      parseSettings({
        ...runnerEnv(
          reviewer ? "pull_request_review" : "pull_request",
          reviewer
            ? pullRequestReviewEvent({ headRef: `interlock/${id}`, reviewer })
            : pullRequestEvent({ headRef: `interlock/${id}` }),
          {},
          repoDir,
        ),
      });

    forge.calls.length = 0;
    expect(await run(deps(gate()))).toEqual({ mode: "gate", id, satisfied: false });
    expect(forge.calls).toEqual(["proposal", "publishGate"]);
    expect(core.outputs.satisfied).toBe("false");
    const first = forge.published[0]!;
    expect(first.id).toBe(id);
    expect(first.verdict.satisfied).toBe(false);
    expect(first.head).toBe(forge.proposals.get(id)!.head); // the head it was evaluated on
    expect(first.markdown).toMatch(/❌ \*\*Not satisfied\*\*/);
    expect(core.summaries.at(-1)).toBe(first.markdown);

    // Approvals from both groups the policy asks for, on the head.
    forge.review(id, "dana");
    forge.review(id, "sam");
    expect(await run(deps(gate("sam")))).toEqual({ mode: "gate", id, satisfied: true });
    expect(forge.published.at(-1)!.markdown).toMatch(/✅ \*\*Satisfied\*\*/);
    expect(core.failures).toEqual([]);
    expect(forge.calls.filter((c) => EXECUTION_CALLS.includes(c))).toEqual([]);
  });

  it("execute mode runs merged requests once, comments on each PR, and sets `executed`", async () => {
    const { forge, core, deps } = harness();
    await run(
      deps(
        settingsFor("workflow_dispatch", workflowDispatchEvent(), {
          request: EXPORT_YAML,
          "masking-key": KEY,
        }),
      ),
    );
    const id = core.outputs.id!;
    forge.review(id, "dana");
    forge.review(id, "sam");
    const p = forge.proposals.get(id)!;
    await forge.merge(id, p.head, "merge", NOW);

    const env = runnerEnv(
      "push",
      pushEvent(),
      { "executor-identity": identity, "masking-key": KEY },
      repoDir,
    );
    const out = await run(deps(parseSettings(env), env));
    expect(core.failures).toEqual([]);
    expect(out.mode).toBe("execute");
    const executed = JSON.parse(core.outputs.executed!) as { id: string; status: string }[];
    expect(executed).toEqual([expect.objectContaining({ id, status: "succeeded" })]);
    expect(forge.files.get(`results/${id}.yaml`)).toMatch(/outcome: succeeded/);
    expect(forge.comments).toEqual([
      { id, markdown: expect.stringMatching(/executed successfully/) as unknown as string },
    ]);
    expect(forge.comments[0]!.markdown).toContain(
      "https://github.com/acme/approvals/actions/runs/1234",
    );

    // A re-run of the same push executes nothing (exactly once) and comments nothing.
    await run(deps(parseSettings(env), env));
    expect(JSON.parse(core.outputs.executed!)).toEqual([]);
    expect(forge.comments).toHaveLength(1);
  });

  it("PR events never execute, even with a merged request waiting and an identity at hand", async () => {
    const { forge, core, deps } = harness();
    await run(
      deps(
        settingsFor("workflow_dispatch", workflowDispatchEvent(), {
          request: EXPORT_YAML,
          "masking-key": KEY,
        }),
      ),
    );
    const waiting = core.outputs.id!;
    forge.review(waiting, "dana");
    forge.review(waiting, "sam");
    await forge.merge(waiting, forge.proposals.get(waiting)!.head, "merge", NOW);
    forge.calls.length = 0;

    const events: [string, unknown][] = [
      ["pull_request", pullRequestEvent({ headRef: `interlock/${waiting}` })],
      ["pull_request", pullRequestEvent({ headRef: "some-branch" })],
      ["pull_request_review", pullRequestReviewEvent({ headRef: `interlock/${waiting}` })],
      ["pull_request_target", pullRequestEvent()],
    ];
    for (const [event, payload] of events) {
      for (const mode of ["auto", "execute"]) {
        const env = runnerEnv(
          event,
          payload,
          { mode, "executor-identity": identity, "masking-key": KEY },
          repoDir,
        );
        const out = await run(deps(() => parseSettings(env), env));
        expect(out.mode).not.toBe("execute");
      }
    }
    expect(forge.calls.filter((c) => EXECUTION_CALLS.includes(c))).toEqual([]);
    expect(forge.claims.size).toBe(0);
    expect(forge.files.has(`results/${waiting}.yaml`)).toBe(false);
  });

  it("a skipped event does nothing and says why", async () => {
    const { forge, core, deps } = harness();
    const out = await run(deps(settingsFor("push", pushEvent({ ref: "refs/heads/feature" }))));
    expect(out.mode).toBe("skip");
    expect(core.infos.join("\n")).toMatch(/not to the default branch main/);
    expect(forge.calls).toEqual([]);
    expect(core.failures).toEqual([]);
  });

  it("failures are masked and carry the hint", async () => {
    const { core, deps } = harness();
    const out = await run(
      deps(() => {
        throw new Error("boom for jane.doe@example.com");
      }),
    );
    expect(out.mode).toBe("failed");
    expect(core.failures[0]).not.toContain("jane.doe@example.com");
  });

  it("request text is data: parsed, masked and filed, never run or interpolated", async () => {
    const { forge, core, deps } = harness();
    const marker = join(repoDir, "PWNED");
    const hostile = EXPORT_YAML.replace(
      /^reason: .*$/m,
      `reason: "$(touch ${marker}) \`touch ${marker}\` \${{ secrets.INTERLOCK_MASKING_KEY }} <img src=x onerror=alert(1)>"`,
    );
    const out = await run(
      deps(settingsFor("workflow_dispatch", workflowDispatchEvent(), { request: hostile })),
    );
    expect(out).toMatchObject({ mode: "request", denied: false });
    expect(existsSync(marker)).toBe(false);
    expect(forge.proposals.get(core.outputs.id!)!.content).toContain(`$(touch ${marker})`);
    // In the job summary it sits inside a code block the text cannot close.
    expect(core.summaries[0]).toMatch(/```+text\n[\s\S]*\$\(touch[\s\S]*\n```+\n/);
  });

  it("Markdown from reviewer logins and reasons cannot inject HTML, links or mentions", () => {
    const md = renderVerdictMarkdown(
      {
        satisfied: false,
        autoApproved: false,
        summary: "0/1 approvals <script>x</script>",
        rules: [{ rule: "groups", ok: false, detail: "needs [click](https://evil.test) | x" }],
        approvals: [{ who: "@acme/security", counted: false, why: "<img src=x>" }],
      },
      { id: REQUEST_ID, head: "a".repeat(40) },
    );
    expect(md).not.toMatch(/<script>|<img|\]\(https/);
    expect(md).not.toContain("@acme");
    expect(md).toContain("\\|"); // a pipe cannot break the table
    const comment = renderReportComment(
      {
        id: REQUEST_ID,
        action: "db.export",
        status: "failed",
        detail: "mail jane.doe@example.com",
      },
      "https://github.com/acme/approvals/actions/runs/1",
    );
    expect(comment).not.toContain("jane.doe@example.com");
    expect(comment).toContain("[Workflow run](https://github.com/acme/approvals/actions/runs/1)");
  });

  it("executors never see the action's inputs (token, identity, masking key)", () => {
    const env = executorEnvironment({
      PATH: "/bin",
      INPUT_TOKEN: "ghs_x",
      "INPUT_EXECUTOR-IDENTITY": identity,
      "INPUT_MASKING-KEY": KEY,
      DEPLOY_TOKEN: "kept",
    });
    expect(env).toEqual({ PATH: "/bin", DEPLOY_TOKEN: "kept" });
  });
});
