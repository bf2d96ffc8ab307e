/**
 * Notifications from the GitHub Action: the request run announces `filed` (or `denied`), the
 * execute run `merged` and `executed`; a request's Slack message is found again in Slack by its
 * metadata and updated in place, though no run keeps anything for the next. Against the local
 * Slack, Teams and webhook stand-ins of test/notify-servers.ts.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify, parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSettings } from "../src/action/settings.ts";
import { executorEnvironment, run } from "../src/action/run.ts";
import { loadConfig } from "../src/config/config.ts";
import { initRepository } from "../src/lifecycle/init.ts";
import { MemoryForge, RecordingCore, runnerEnv } from "./github-action-doubles.ts";
import { pushEvent, repositoryDispatchEvent, workflowDispatchEvent } from "./github-events.ts";
import { tempDir } from "./helpers.ts";
import { fakeConsumer, fakeSlack, fakeTeams } from "./notify-servers.ts";

const NOW = new Date("2026-11-24T10:00:00Z");
const KEY = "cd".repeat(32);
const SLACK_TOKEN = ["xoxb", "1234567890", "0987654321", "a".repeat(24)].join("-");
const HMAC_KEY = "k".repeat(32);
const EMAIL = ["jane", ".doe", "@example.com"].join("");
const EXPORT_YAML = stringify({
  action: "db.export",
  resource: "postgres://prod/customers",
  params: {
    query: `select id, plan from customers where email = '${EMAIL}' -- <!channel>`,
    destination: "s3://analytics-exports/churn/2026-11/",
  },
  reason: "Weekly churn analysis <https://evil.example|click>",
  requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
  ttl: "24h",
});

let repoDir: string;
let identity: string;
let slack: Awaited<ReturnType<typeof fakeSlack>>;
let teams: Awaited<ReturnType<typeof fakeTeams>>;
let hook: Awaited<ReturnType<typeof fakeConsumer>>;

beforeAll(async () => {
  repoDir = join(tempDir("interlock-action-notify-"), "approvals");
  const init = await initRepository(repoDir, NOW, { home: tempDir("interlock-action-home-") });
  identity = readFileSync(join(init.home, "executor.key"), "utf8");
  // The repository's config routes every event of high-risk requests to all three channels.
  const file = join(repoDir, ".interlock", "config.yaml");
  const config = parseYaml(readFileSync(file, "utf8")) as Record<string, unknown>;
  config.notifications = {
    channels: {
      ops: { type: "slack", channel: "C0OPS" },
      teams: { type: "teams" },
      hook: { type: "webhook" },
    },
    routes: [{ channels: ["ops", "teams", "hook"], risk: ["high", "critical"] }],
  };
  writeFileSync(file, stringify(config));
  slack = await fakeSlack(SLACK_TOKEN);
  teams = await fakeTeams();
  hook = await fakeConsumer(HMAC_KEY, () => NOW);
});
afterAll(async () => {
  await Promise.all([slack.close(), teams.close(), hook.close()]);
});

/** The channel secrets, as the workflow passes them to the Interlock step. */
function secrets(): NodeJS.ProcessEnv {
  return {
    INTERLOCK_SLACK_TOKEN: SLACK_TOKEN,
    INTERLOCK_SLACK_API_URL: `${slack.url}/api/`,
    INTERLOCK_TEAMS_WEBHOOK_URL: `${teams.url}/workflows/abc?sig=${"s".repeat(20)}`,
    INTERLOCK_WEBHOOK_URL: `${hook.url}/interlock`,
    INTERLOCK_WEBHOOK_SECRET: HMAC_KEY,
  };
}

describe("the action tells reviewers: filed on request, merged and executed on execution", () => {
  it("announces once per run, builds only from the masked card, and updates one Slack message in place", async () => {
    const forge = new MemoryForge();
    forge.config = loadConfig(repoDir);
    const core = new RecordingCore();
    const deps = (settings: ReturnType<typeof parseSettings>, env: NodeJS.ProcessEnv) => ({
      settings,
      forgeFactory: () => forge,
      core,
      env,
      now: () => NOW,
    });

    // 1. The request run: filed, to every channel.
    const requestEnv = {
      ...runnerEnv(
        "workflow_dispatch",
        workflowDispatchEvent({ sender: "alice" }),
        { request: EXPORT_YAML, "masking-key": KEY },
        repoDir,
      ),
      ...secrets(),
    };
    expect(await run(deps(parseSettings(requestEnv), requestEnv))).toMatchObject({
      mode: "request",
      denied: false,
    });
    expect(core.failures).toEqual([]);
    expect(core.warnings).toEqual([]);
    const id = core.outputs.id!;
    const notified = JSON.parse(core.outputs.notified!) as { kind: string; status: string }[];
    expect(notified.map((n) => [n.kind, n.status])).toEqual([
      ["filed", "delivered"],
      ["filed", "delivered"],
      ["filed", "delivered"],
    ]);
    expect(slack.messages.size).toBe(1);
    const [message] = [...slack.messages.values()];
    expect(message!.metadata).toEqual({
      event_type: "interlock_request",
      event_payload: { request: id },
    });
    expect(hook.events.map((e) => (e as { type: string }).type)).toEqual(["request.filed"]);
    expect(teams.cards).toHaveLength(1);
    // Nothing sensitive reaches any channel; no markup of the requester's forms in Slack's
    // (the escaping of each channel is tested in test/notify.test.ts).
    for (const payload of [
      JSON.stringify([...slack.messages.values()]),
      JSON.stringify(teams.cards),
      JSON.stringify(hook.events),
    ]) {
      expect(payload).not.toContain(EMAIL);
    }
    const slackText = JSON.stringify([message!.text, message!.blocks]);
    expect(slackText).not.toContain("<!channel>");
    expect(slackText).not.toContain("<https://evil.example|click>");
    expect(JSON.stringify(message!.blocks)).toContain(id);

    // 2. Reviews on GitHub; the relay names the reviewer, the gate run announces that
    // person's latest review as the forge records it. The config comes from the default
    // branch through the forge (the gate reads nothing from the workspace).
    forge.files.set(
      ".interlock/config.yaml",
      readFileSync(join(repoDir, ".interlock", "config.yaml"), "utf8"),
    );
    const relayed = (reviewer: string) => {
      const env = {
        ...runnerEnv(
          "repository_dispatch",
          repositoryDispatchEvent({
            eventType: "interlock-gate",
            clientPayload: { id, reviewer },
            sender: "github-actions[bot]",
            senderType: "Bot",
          }),
          {},
          repoDir,
        ),
        ...secrets(),
      };
      return run(deps(parseSettings(env), env));
    };
    forge.review(id, "dana", "changes_requested", new Date(NOW.getTime() + 1000));
    expect(await relayed("dana")).toMatchObject({ mode: "gate", satisfied: false });
    forge.review(id, "dana", "approved", new Date(NOW.getTime() + 2000));
    expect(await relayed("dana")).toMatchObject({ mode: "gate" });
    // A forged relay naming someone who never reviewed announces nothing.
    await relayed("mallory");
    expect(core.failures).toEqual([]);
    expect(hook.events.map((e) => (e as { type: string }).type)).toEqual([
      "request.filed",
      "request.rejected",
      "request.approved",
    ]);
    expect((hook.events[2] as { actor: string; counted: boolean }).actor).toBe("dana");
    expect(JSON.stringify(message!.blocks)).toContain("dana");
    expect(slack.messages.size).toBe(1);

    // 3. The merge; the push starts the execute run.
    forge.review(id, "sam");
    await forge.merge(id, forge.proposals.get(id)!.head, "merge", NOW);
    const executeEnv = {
      ...runnerEnv(
        "push",
        pushEvent(),
        { "executor-identity": identity, "masking-key": KEY },
        repoDir,
      ),
      ...secrets(),
    };
    await run(deps(parseSettings(executeEnv), executeEnv));
    expect(core.failures).toEqual([]);
    expect(JSON.parse(core.outputs.executed!)).toEqual([
      expect.objectContaining({ id, status: "succeeded" }),
    ]);
    // The same Slack message, found by its metadata, updated in place with the outcome.
    expect(slack.messages.size).toBe(1);
    expect(message!.updates).toBe(3);
    expect(JSON.stringify(message!.blocks)).toMatch(/succeeded/);
    // Still saying who approved (from the approvals the executor counted).
    expect(JSON.stringify(message!.blocks)).toMatch(/approved by dana/);
    expect(hook.events.map((e) => (e as { type: string }).type)).toEqual([
      "request.filed",
      "request.rejected",
      "request.approved",
      "request.merged",
      "request.executed",
    ]);
    expect(teams.cards).toHaveLength(5);

    // 4. A re-run of the push executes nothing, so it announces nothing.
    const updates = message!.updates;
    await run(deps(parseSettings(executeEnv), executeEnv));
    expect(JSON.parse(core.outputs.executed!)).toEqual([]);
    expect(hook.events).toHaveLength(5);
    expect(teams.cards).toHaveLength(5);
    expect(message!.updates).toBe(updates);
  });

  it("executors never see the channels' secrets", () => {
    const env = executorEnvironment({ PATH: "/bin", ...secrets(), INPUT_TOKEN: "x" });
    // The Slack API's address is no secret; the token, the URLs and the HMAC key are.
    expect(Object.keys(env)).toEqual(["PATH", "INTERLOCK_SLACK_API_URL"]);
  });

  it("a channel whose secret the job lacks is named in a warning; the run still succeeds", async () => {
    const forge = new MemoryForge();
    forge.config = loadConfig(repoDir);
    const core = new RecordingCore();
    const { INTERLOCK_SLACK_TOKEN: _dropped, ...partial } = secrets();
    const env = {
      ...runnerEnv(
        "workflow_dispatch",
        workflowDispatchEvent({ sender: "alice" }),
        { request: EXPORT_YAML, "masking-key": KEY },
        repoDir,
      ),
      ...partial,
    };
    const out = await run({
      settings: parseSettings(env),
      forgeFactory: () => forge,
      core,
      env,
      now: () => NOW,
    });
    expect(out).toMatchObject({ mode: "request", denied: false });
    expect(core.failures).toEqual([]);
    expect(core.warnings.join("\n")).toMatch(/Not told .*ops/);
  });
});
