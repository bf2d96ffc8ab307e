/**
 * End to end on a real local approvals repository (real git, real opa, the CLI in-process):
 * reviewers are told through Slack and a signed webhook as a request moves, every command
 * sweeps, `show` lists the deliveries; the agent asks and learns the outcome through the SDK.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify } from "yaml";
import { requestApproval, resumeApproval } from "../src/sdk/local.ts";
import type { SdkClock } from "../src/sdk/approval.ts";
import { Clock, git, homeEnv, Repo, requests } from "./e2e-helpers.ts";
import { fakeConsumer, fakeSlack } from "./notify-servers.ts";

const SLACK_TOKEN = "xoxb-" + "2345678901-" + "klmnopqrst".repeat(2);
const HMAC_KEY = "whsec_" + "e2e".repeat(11);

let slack: Awaited<ReturnType<typeof fakeSlack>>;
let hook: Awaited<ReturnType<typeof fakeConsumer>>;
const saved: Record<string, string | undefined> = {};
/** The webhook consumer's clock: a test that moves its story clock moves this one too. */
let consumerClock: () => Date = () => new Date();
const ENV = () => ({
  INTERLOCK_SLACK_TOKEN: SLACK_TOKEN,
  INTERLOCK_SLACK_API_URL: `${slack.url}/api/`,
  INTERLOCK_WEBHOOK_URL: `${hook.url}/events`,
  INTERLOCK_WEBHOOK_SECRET: HMAC_KEY,
});

beforeAll(async () => {
  slack = await fakeSlack(SLACK_TOKEN);
  hook = await fakeConsumer(HMAC_KEY, () => consumerClock());
  for (const [k, v] of Object.entries(ENV())) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
});
afterAll(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await Promise.all([slack.close(), hook.close()]);
});

/** A repository whose committed config tells a Slack channel and a webhook about everything. */
async function notifyingRepo(clock = new Clock(new Date().toISOString())): Promise<Repo> {
  const repo = await Repo.init(clock);
  const path = join(repo.dir, ".interlock", "config.yaml");
  const config = parseYaml(readFileSync(path, "utf8")) as Record<string, unknown>;
  config.notifications = {
    channels: {
      stewards: { type: "slack", channel: "C0STEWARDS" },
      api: { type: "webhook" },
    },
    routes: [{ channels: ["stewards"], groups: ["data-stewards"] }, { channels: ["api"] }],
  };
  writeFileSync(path, stringify(config, { lineWidth: 0 }));
  await repo.governance([".interlock/config.yaml"]);
  return repo;
}

/** The Slack message of a request, as the fake keeps it. */
function slackMessageOf(id: string) {
  return [...slack.messages.values()].find((m) => JSON.stringify(m.blocks).includes(id));
}

describe("notifications through the CLI", () => {
  it("tells Slack and the webhook as a request is filed, approved, merged and executed; show lists it", async () => {
    const repo = await notifyingRepo();
    const filed = await repo.request(requests.export());
    const m = slackMessageOf(filed.id);
    expect(m).toBeDefined();
    expect(JSON.stringify(m!.blocks)).toContain(`interlock show ${filed.id}`);
    // The masked card: the e-mail in the query never reaches Slack.
    expect(JSON.stringify(m!.blocks)).not.toContain("jane.doe@example.com");
    // As the sponsor: alice's signed approval is announced as one that does not count.
    await repo.approve(filed.id, "alice");
    expect(JSON.stringify(slackMessageOf(filed.id)!.blocks)).toContain(
      "approved by alice (does not count)",
    );
    await repo.approve(filed.id, "dana");
    expect(JSON.stringify(slackMessageOf(filed.id)!.blocks)).toContain("approved by dana");
    expect((await repo.merge(filed.id)).code).toBe(0);
    await repo.execute();
    // Executed is announced by the next command's sweep (or interlock notify).
    const notify = await repo.json<{ delivered: unknown[] }>(["notify"]);
    expect(notify.code).toBe(0);
    const final = slackMessageOf(filed.id)!;
    expect(JSON.stringify(final.blocks)).toContain("executed: succeeded");
    expect(final.updates).toBeGreaterThanOrEqual(3);
    expect(
      [...slack.messages.values()].filter((x) => JSON.stringify(x.blocks).includes(filed.id)),
    ).toHaveLength(1);
    const kinds = hook.events
      .filter((e) => (e as { request: { id: string } }).request.id === filed.id)
      .map((e) => (e as { type: string }).type);
    expect(kinds).toEqual([
      "request.filed",
      "request.approved",
      "request.approved",
      "request.merged",
      "request.executed",
    ]);
    const shown = await repo.cli(["show", filed.id]);
    expect(shown.stdout).toMatch(/Notifications/);
    expect(shown.stdout).toMatch(/stewards .*delivered/);
  });

  it("announces expiry, found by a later sweep", async () => {
    const clock = new Clock(new Date().toISOString());
    consumerClock = () => clock.now;
    const repo = await notifyingRepo(clock);
    const filed = await repo.request(requests.export({ ttl: "1h" }));
    clock.tick(2 * 3600);
    await repo.json(["notify"]);
    expect(JSON.stringify(slackMessageOf(filed.id)!.blocks)).toContain("expired");
  });

  it("as a repository writer, an unsigned approval is not announced, and an uncommitted config edit silences nothing", async () => {
    const clock = new Clock(new Date().toISOString());
    consumerClock = () => clock.now;
    const repo = await notifyingRepo(clock);
    const filed = await repo.request(requests.export({ ttl: "1h" }));
    const head = repo.rev(`interlock/${filed.id}`);
    git(
      repo.dir,
      [
        "tag",
        "-a",
        `interlock/reviews/${filed.id}/dana-forged`,
        "-m",
        `interlock review: approved\n\nrequest: ${filed.id}\nstate: approved\ncommit: ${head}`,
        head,
      ],
      { who: { name: "Dana Example", email: "dana@acme.example" } },
    );
    // The notifications removed in the working tree only: the committed config still decides.
    const path = join(repo.dir, ".interlock", "config.yaml");
    const config = parseYaml(readFileSync(path, "utf8")) as Record<string, unknown>;
    delete config.notifications;
    writeFileSync(path, stringify(config, { lineWidth: 0 }));
    clock.tick(2 * 3600);
    await repo.json(["notify"]);
    git(repo.dir, ["checkout", "-q", "--", ".interlock/config.yaml"]);
    const blocks = JSON.stringify(slackMessageOf(filed.id)!.blocks);
    expect(blocks).not.toContain("approved by");
    expect(blocks).toContain("expired");
    const kinds = hook.events
      .filter((e) => (e as { request: { id: string } }).request.id === filed.id)
      .map((e) => (e as { type: string }).type);
    expect(kinds).toEqual(["request.filed", "request.expired"]);
  });
});

describe("notifications follow only the trusted config", () => {
  it("as a repository writer, a plain commit that redirects a channel sends nothing anywhere, and says why", async () => {
    const clock = new Clock(new Date().toISOString());
    consumerClock = () => clock.now;
    const repo = await notifyingRepo(clock);
    const filed = await repo.request(requests.export());
    expect(slackMessageOf(filed.id)).toBeDefined();
    const before = hook.events.length;
    // The writer points the stewards' Slack channel at their own, with a plain commit.
    const path = join(repo.dir, ".interlock", "config.yaml");
    const config = parseYaml(readFileSync(path, "utf8")) as {
      notifications: { channels: Record<string, Record<string, unknown>> };
    };
    config.notifications.channels.stewards!.channel = "C0MALLORY";
    writeFileSync(path, stringify(config, { lineWidth: 0 }));
    git(repo.dir, ["commit", "-q", "-am", "Tidy the notifications"], {
      who: { name: "Mallory Example", email: "mallory@acme.example" },
    });
    // approve refuses a repository whose trust chain is broken; nothing is announced either,
    // to the writer's channel or anywhere else.
    const approved = await repo.cli(["approve", filed.id, "--as", "dana"]);
    expect(approved.code).toBe(2);
    expect(approved.stderr).toMatch(/the trust inputs at [0-9a-f]{7} are not trusted/);
    clock.tick(60);
    const notify = await repo.json<{ undelivered: { error?: string }[] }>(["notify"]);
    expect(JSON.stringify(notify.body) + notify.stderr).toMatch(/not trusted/);
    expect(
      [...slack.messages.values()].filter((m) => JSON.stringify(m).includes("C0MALLORY")),
    ).toEqual([]);
    expect(JSON.stringify(slackMessageOf(filed.id)!.blocks)).not.toContain("approved by dana");
    expect(hook.events.length).toBe(before);
  });
});

describe("the SDK on the local forge", () => {
  function clockOf(repo: Repo): SdkClock {
    return { now: () => repo.clock.now, sleep: async (ms) => void repo.clock.tick(ms / 1000) };
  }

  it("an agent asks, waits (bounded), and learns it was approved with the executed result", async () => {
    const repo = await Repo.init(new Clock(new Date().toISOString()));
    const env = homeEnv(repo.home);
    const { requester: _r, ...request } = requests.export();
    const handle = await requestApproval(request, {
      repo: repo.dir,
      as: "agent:etl-bot",
      env,
      clock: clockOf(repo),
    });
    expect(handle.denied).toBe(false);
    const first = await handle.decision({ timeoutMs: 3000, pollMs: 1000 });
    expect(first).toMatchObject({ status: "waiting", state: "pending", reviewers: ["dana"] });
    // As the sponsor: a signed approval that does not count is never reported as an approver.
    await repo.approve(handle.id, "alice");
    await repo.approve(handle.id, "dana");
    expect(await handle.decision({ until: "approved" })).toMatchObject({
      status: "approved",
      approvers: ["dana"],
    });
    expect((await repo.merge(handle.id)).code).toBe(0);
    await repo.execute();
    // Another process picks it up by its id.
    const again = await resumeApproval(handle.id, {
      repo: repo.dir,
      as: "agent:etl-bot",
      env,
      clock: clockOf(repo),
    });
    const d = await again.decision({ timeoutMs: 1000 });
    expect(d).toMatchObject({
      status: "approved",
      approvers: ["dana"],
      execution: { outcome: "succeeded" },
    });
  });

  it("rejected with the reviewer's reason; denied with the policy's; withdrawn", async () => {
    const repo = await Repo.init(new Clock(new Date().toISOString()));
    const opts = {
      repo: repo.dir,
      as: "agent:etl-bot",
      env: homeEnv(repo.home),
      clock: clockOf(repo),
    };
    const asked = await requestApproval(requests.export(), opts);
    const r = await repo.cli([
      "reject",
      asked.id,
      "--as",
      "dana",
      "--note",
      "Export one region only",
    ]);
    expect(r.code).toBe(0);
    expect(await asked.decision()).toEqual({
      status: "rejected",
      id: asked.id,
      reasons: [expect.objectContaining({ reviewer: "dana", note: "Export one region only" })],
    });
    const denied = await requestApproval(
      {
        action: "iam.grant",
        resource: "aws://prod/iam",
        params: { principal: "agent:etl-bot", role: "AdministratorAccess" },
        reason: "Need broader permissions to finish faster",
      },
      opts,
    );
    expect(denied.denied).toBe(true);
    const dd = await denied.decision();
    expect(dd.status).toBe("denied");
    expect((dd as unknown as { reasons: string[] }).reasons.length).toBeGreaterThan(0);
    const third = await requestApproval(requests.export(), opts);
    await third.withdraw("not needed any more");
    expect(await third.decision()).toEqual({
      status: "withdrawn",
      id: third.id,
      by: "agent:etl-bot",
    });
  });

  it("as the requester, the SDK files only as the principal whose key it holds, and withdraws only its own", async () => {
    const repo = await Repo.init(new Clock(new Date().toISOString()));
    const env = homeEnv(repo.home);
    const opts = { repo: repo.dir, as: "agent:etl-bot", env, clock: clockOf(repo) };
    await expect(
      requestApproval(
        requests.export({ requester: { id: "agent:deploy-bot", kind: "agent" } }),
        opts,
      ),
    ).rejects.toThrow(/refused/);
    const theirs = await repo.request(requests.query(1));
    const mine = await resumeApproval(theirs.id, opts);
    await expect(mine.withdraw()).rejects.toThrow(/only the requester/);
  });
});
