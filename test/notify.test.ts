/* eslint-disable no-control-regex -- the tests look for control characters on purpose */
/**
 * Notifications: every channel's message is built from the masked card alone and escaped for
 * the channel's own markup; delivery is retried, idempotent and never throws. Against local
 * servers that accept what Slack, Teams and a signed-webhook consumer accept.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideAndMask } from "../src/decide.ts";
import { parseConfig } from "../src/config/config.ts";
import { notificationsConfigSchema, type NotificationsConfig } from "../src/notify/config.ts";
import { sweepNotifications, type SweepOptions } from "../src/notify/deliver.ts";
import { cardOf, eventsOf, localReviewCommands, type RequestFacts } from "../src/notify/event.ts";
import { readOutbox, tryLock } from "../src/notify/outbox.ts";
import { SLACK_LIMITS, slackMessage } from "../src/notify/slack.ts";
import { teamsMessage } from "../src/notify/teams.ts";
import type { Decision } from "../src/policy/decision.ts";
import type { PolicyEngine } from "../src/policy/engine.ts";
import { adaptiveCardText, slackMrkdwnText } from "../src/presentation/escape.ts";
import {
  parseRequestFile,
  renderRequestFile,
  requestRecord,
} from "../src/proposal/request-file.ts";
import { validateRequestValue } from "../src/request/parse.ts";
import { adaptiveCardProblems, fakeConsumer, fakeSlack, fakeTeams } from "./notify-servers.ts";

// Fake values in real formats, assembled at run time.
const GH_TOKEN = "ghp_" + "Zq8".repeat(12);
const AWS_KEY = "AKIA" + "QZ7X".repeat(4);
const POLICY_MASKED = "Project Nightingale " + "budget 4711";
const SLACK_TOKEN = "xoxb-" + "1234567890-" + "abcdefghij".repeat(2);
const HMAC_KEY = "whsec_" + "k".repeat(32);
const MARKUP = [
  "<!channel>",
  "<!here|here>",
  "<@U0123ABC>",
  "<http://x|y>",
  "*bold*",
  "_italic_",
  "~strike~",
  "`code` ```fence```",
  "> quote",
  "**ac bold** [link](https://evil.test) <at>Boss</at> - item 1. one",
  "&amp; &lt;",
  "evil \u202egnp.exe \u2066iso\u2069 zero\u200bwidth",
  "line\rOVER\nNEXT",
];
const HOSTILE = MARKUP.join(" ");
/** What must never appear in any payload, in any spelling. */
const SECRETS = [GH_TOKEN, AWS_KEY, POLICY_MASKED, "Nightingale", SLACK_TOKEN, HMAC_KEY];

/** A policy that allows, masks one field the detectors would not find, and echoes the reason. */
function engine(): PolicyEngine {
  return {
    revision: "test",
    executableParams: () => [],
    sql: null,
    decide: (input): Decision => ({
      allow: true,
      deny: [],
      risk: "high",
      classification: ["pii"],
      auto_approve: false,
      approvals: { groups: [{ name: "data-stewards", owners: ["@acme/data-stewards"], min: 1 }] },
      mask: [{ path: "/params/project", strategy: "redact" }],
      ttl_seconds: 3600,
      why: [`because ${String(input.request.reason)}`],
      revision: "test",
    }),
  };
}

const T0 = new Date("2026-11-24T10:00:00Z");
const ID = "01JE5TNTF0000000000000000Z";

function hostileFacts(over: Partial<RequestFacts> = {}, id = ID): RequestFacts {
  const request = validateRequestValue({
    action: "db.export",
    resource: `postgres://prod/customers ${HOSTILE}`,
    params: {
      token: GH_TOKEN,
      aws: AWS_KEY,
      project: POLICY_MASKED,
      note: HOSTILE,
      [`k ${HOSTILE}`]: 1,
    },
    reason: `${HOSTILE} token ${GH_TOKEN}`,
    requester: { id: "agent:etl-bot", kind: "agent", on_behalf_of: "alice" },
  });
  const ev = decideAndMask(request, {
    engine: engine(),
    now: T0,
    repo: null,
    hmacKey: new Uint8Array(32),
  });
  const parsed = parseRequestFile(renderRequestFile(requestRecord(id, T0, ev, null)));
  if (!("record" in parsed)) throw new Error(parsed.error);
  return {
    card: cardOf(parsed.record, { commands: localReviewCommands(id) }),
    state: "pending",
    summary: `waits for data-stewards ${HOSTILE}`,
    denied: false,
    reviews: [],
    ...over,
  };
}

const CONFIG: NotificationsConfig = notificationsConfigSchema.parse({
  channels: {
    ops: { type: "slack", channel: "C0OPS" },
    teams: { type: "teams" },
    hook: { type: "webhook" },
  },
  routes: [{ channels: ["ops", "teams", "hook"], risk: ["high", "critical"] }],
});

let slack: Awaited<ReturnType<typeof fakeSlack>>;
let teams: Awaited<ReturnType<typeof fakeTeams>>;
let hook: Awaited<ReturnType<typeof fakeConsumer>>;
let clock = T0;

beforeAll(async () => {
  slack = await fakeSlack(SLACK_TOKEN);
  teams = await fakeTeams();
  hook = await fakeConsumer(HMAC_KEY, () => clock);
});
afterAll(async () => {
  await Promise.all([slack.close(), teams.close(), hook.close()]);
});

function env(): NodeJS.ProcessEnv {
  return {
    INTERLOCK_SLACK_TOKEN: SLACK_TOKEN,
    INTERLOCK_SLACK_API_URL: `${slack.url}/api/`,
    INTERLOCK_TEAMS_WEBHOOK_URL: `${teams.url}/workflows/abc?sig=${"s".repeat(20)}`,
    INTERLOCK_WEBHOOK_URL: `${hook.url}/interlock`,
    INTERLOCK_WEBHOOK_SECRET: HMAC_KEY,
  };
}

function sweep(facts: RequestFacts[], dir: string, over: Partial<SweepOptions> = {}) {
  return sweepNotifications({
    config: CONFIG,
    facts,
    dir,
    env: env(),
    now: () => clock,
    sleep: async () => {},
    ...over,
  });
}

/** Every string in a JSON value, with where it is. */
function strings(v: unknown, at = ""): { at: string; s: string }[] {
  if (typeof v === "string") return [{ at, s: v }];
  if (Array.isArray(v)) return v.flatMap((x, i) => strings(x, `${at}/${i}`));
  if (v && typeof v === "object")
    return Object.entries(v).flatMap(([k, x]) => [
      { at: `${at}/@key`, s: k },
      ...strings(x, `${at}/${k}`),
    ]);
  return [];
}

/** Invisible characters; a line feed is Interlock's own line structure (checked apart). */
const INVISIBLE = /[\0-\x09\x0b-\x1f\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u;

/** Slack mrkdwn with its code spans taken out: what Slack would format. */
function outsideCodeSpans(mrkdwn: string): string {
  return mrkdwn.replace(/`[^`]*`/g, "");
}

describe("the leak test: secrets, policy-masked values and markup planted in a request", () => {
  it("as the requester, nothing planted reaches a Slack, Teams or webhook payload unmasked or unescaped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "interlock-notify-"));
    clock = T0;
    const facts = hostileFacts({
      reviews: [
        { who: "dana", state: "approved", at: "2026-11-24T10:05:00.000Z", commit: "a".repeat(40) },
      ],
    });
    const report = await sweep([facts], dir);
    expect(report.undelivered).toEqual([]);
    expect(report.delivered.map((d) => d.channel).sort()).toEqual([
      "hook",
      "hook",
      "ops",
      "ops",
      "teams",
      "teams",
    ]);

    // 1. No secret or policy-masked value in any byte that left, nor in the outbox.
    const raws = [...slack.received, ...teams.received, ...hook.received].map((r) => r.raw);
    raws.push(readFileSync(join(dir, "deliveries.json"), "utf8"));
    for (const raw of raws) {
      const decoded = decodeURIComponent(raw.replace(/\+/g, " "));
      for (const secret of SECRETS) {
        expect(raw).not.toContain(secret);
        expect(decoded).not.toContain(secret);
      }
    }
    for (const r of hook.received) expect(JSON.stringify(r.headers)).not.toContain(HMAC_KEY);

    // 2. Slack: markup only inside code spans, &<> as entities everywhere, nothing invisible.
    const [message] = [...slack.messages.values()];
    expect(message).toBeDefined();
    for (const { at, s } of strings([message!.text, message!.blocks])) {
      expect(s, at).not.toMatch(INVISIBLE);
      expect(s, at).not.toContain("OVER\nNEXT");
      if (at.endsWith("/@key") || at.endsWith("/type")) continue;
      expect(s, at).not.toMatch(/<[!@#h]/);
      expect(s.replace(/&(amp|lt|gt);/g, ""), at).not.toMatch(/[<>]/);
    }
    for (const b of message!.blocks as {
      text?: { type: string; text: string };
      fields?: { type: string; text: string }[];
    }[]) {
      for (const t of [b.text, ...(b.fields ?? [])]) {
        if (t?.type !== "mrkdwn") continue;
        const open = outsideCodeSpans(t.text);
        for (const planted of [
          "bold",
          "italic",
          "strike",
          "channel",
          "evil",
          "quote",
          "Boss",
          "OVER",
          "http",
        ]) {
          expect(open, t.text).not.toContain(planted);
        }
      }
    }

    // 3. Teams: a valid Adaptive Card; every Markdown text escapes every ASCII punctuation.
    expect(teams.cards.length).toBe(2);
    for (const card of teams.cards) {
      expect(adaptiveCardProblems(card)).toEqual([]);
      const md = strings(card).filter(
        ({ at }) => /\/(text|title|value)$/.test(at) && !/inlines/.test(at),
      );
      for (const { at, s } of md) {
        expect(s, at).not.toMatch(INVISIBLE);
        if (s === "Parameters (masked)") continue;
        expect(s.replace(/\\[!-/:-@[-`{-~]/g, ""), at).not.toMatch(/[!-/:-@[-`{-~]/);
      }
      for (const { at, s } of strings(card)) expect(s, at).not.toMatch(INVISIBLE);
    }

    // 4. Webhook: verified by the consumer written from the scheme; values visible, no secrets.
    expect(hook.rejected).toEqual([]);
    expect(hook.events.map((e) => (e as { type: string }).type)).toEqual([
      "request.filed",
      "request.approved",
    ]);
    for (const e of hook.events)
      for (const { at, s } of strings(e)) expect(s, at).not.toMatch(INVISIBLE);
  });

  it("as the requester, no string at all escapes a Slack code span or an Adaptive Card escape", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (s) => {
        const code = slackMrkdwnText(s);
        expect(code.startsWith("`") && code.endsWith("`")).toBe(true);
        expect(code.slice(1, -1)).not.toMatch(/[`<>]/);
        expect(code).not.toMatch(INVISIBLE);
        const ac = adaptiveCardText(s);
        expect(ac.replace(/\\[!-/:-@[-`{-~]/g, "")).not.toMatch(/[!-/:-@[-`{-~]/);
        expect(ac).not.toMatch(INVISIBLE);
      }),
      { numRuns: 2000 },
    );
  });

  it("as the requester, markup cannot escape a Slack code span or an Adaptive Card escape", () => {
    for (const s of [...MARKUP, HOSTILE, "`", "``", "\\`", "a`b`c", ""]) {
      const code = slackMrkdwnText(s);
      expect(code.slice(1, -1)).not.toContain("`");
      expect(code).not.toMatch(/[<>\u202e\r\n]/);
      const ac = adaptiveCardText(s).replace(/\\[!-/:-@[-`{-~]/g, "");
      expect(ac).not.toMatch(/[!-/:-@[-`{-~\u202e\r\n]/);
    }
  });

  it("Slack messages stay within Block Kit's limits however long the request's text", () => {
    const long = hostileFacts();
    const huge = {
      ...long,
      card: {
        ...long.card,
        reason: "\u202e*".repeat(20_000),
        resource: "<".repeat(10_000),
        params: "x: ".concat("&".repeat(50_000)),
        masks: Array.from({ length: 100 }, (_, i) => `email (hash) in /params/${i}`),
        groups: Array.from({ length: 20 }, (_, i) => ({
          name: `g${i}`,
          owners: ["@a/" + "b".repeat(300)],
          min: 1,
        })),
      },
    };
    const events = Array.from({ length: 40 }, (_, i) => ({
      ...eventsOf(huge)[0]!,
      id: String(i),
      kind: "approved" as const,
      actor: "<!channel>".repeat(300),
    }));
    const m = slackMessage(huge.card, events, { state: "pending", summary: "*".repeat(9000) });
    expect(m.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(m.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
    type Text = { text: string };
    type Loose = {
      type: string;
      text: Text;
      fields?: Text[];
      elements: (Text & { elements: Text[] })[];
    };
    for (const b of m.blocks as unknown as Loose[]) {
      if (b.type === "header")
        expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      if (b.type === "section") {
        if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
        expect((b.fields ?? []).length).toBeLessThanOrEqual(SLACK_LIMITS.sectionFields);
        for (const f of b.fields ?? [])
          expect(f.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
      }
      if (b.type === "context") {
        expect(b.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
        for (const e of b.elements)
          expect(e.text.length).toBeLessThanOrEqual(SLACK_LIMITS.contextText);
      }
      if (b.type === "rich_text") {
        expect(b.elements[0]!.elements[0]!.text.length).toBeLessThanOrEqual(
          SLACK_LIMITS.preformatted,
        );
      }
    }
    const teamsCard = teamsMessage(huge.card, events[0]!, { state: "pending", summary: "x" });
    expect(adaptiveCardProblems(teamsCard.attachments[0].content)).toEqual([]);
  });
});

describe("delivery", () => {
  it("posts one Slack message per request and updates it in place as the request moves", async () => {
    const dir = mkdtempSync(join(tmpdir(), "interlock-notify-"));
    clock = T0;
    const before = slack.received.filter((r) => r.path.endsWith("chat.postMessage")).length;
    const filed = hostileFacts();
    await sweep([filed], dir);
    const approved = {
      ...filed,
      state: "approved",
      reviews: [
        {
          who: "dana",
          state: "approved" as const,
          at: "2026-11-24T10:05:00.000Z",
          commit: "b".repeat(40),
        },
      ],
    };
    clock = new Date(T0.getTime() + 600_000);
    await sweep([approved], dir);
    const executed = {
      ...approved,
      state: "executed",
      merged: { at: "2026-11-24T10:06:00.000Z" },
      executed: { at: "2026-11-24T10:07:00.000Z", outcome: "succeeded" },
    };
    await sweep([executed], dir);
    const posts = slack.received.filter((r) => r.path.endsWith("chat.postMessage")).length - before;
    expect(posts).toBe(1);
    const outbox = readOutbox(dir, clock);
    const ts = outbox.slack[`ops/${ID}`]!.ts;
    const m = slack.messages.get(ts)!;
    expect(m.updates).toBe(2);
    expect(JSON.stringify(m.blocks)).toContain("executed: succeeded");
    expect(JSON.stringify(m.blocks)).toContain("approved by dana");
    // Run again: nothing new happened, nothing is sent.
    const n = slack.received.length + teams.received.length + hook.received.length;
    const again = await sweep([executed], dir);
    expect(again.delivered).toEqual([]);
    expect(slack.received.length + teams.received.length + hook.received.length).toBe(n);
    const kinds = Object.values(outbox.deliveries)
      .filter((d) => d.channel === "hook")
      .map((d) => d.kind);
    expect(kinds.sort()).toEqual(["approved", "executed", "filed", "merged"]);
  });

  it("retries a failing receiver with backoff, then delivers once; a receiver sees each event id once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "interlock-notify-"));
    clock = T0;
    const only = notificationsConfigSchema.parse({
      channels: { hook: { type: "webhook" } },
      routes: [{ channels: ["hook"] }],
    });
    const before = hook.events.length;
    hook.failures.push(500, 503, 500); // three failures: more than one sweep's tries
    const other = "01JR3TRY000000000000000000";
    const facts = () => [hostileFacts({}, other)];
    const first = await sweep(facts(), dir, { config: only });
    expect(first.undelivered.map((d) => d.status)).toEqual(["retrying"]);
    const rec = first.undelivered[0]!;
    expect(rec.attempts).toBe(1);
    expect(rec.error).toMatch(/HTTP 50[03]/);
    expect(new Date(rec.next_attempt_at!).getTime()).toBe(T0.getTime() + 30_000);
    // Before the backoff has passed: nothing is tried.
    const early = await sweep(facts(), dir, { config: only });
    expect(early.delivered.length + early.undelivered.length).toBe(0);
    clock = new Date(T0.getTime() + 31_000);
    const later = await sweep(facts(), dir, { config: only });
    expect(later.delivered.map((d) => d.attempts)).toEqual([2]);
    expect(hook.events.length - before).toBe(1);
    // The same event delivered again (an outbox lost) carries the same id: the receiver drops it.
    const lost = mkdtempSync(join(tmpdir(), "interlock-notify-"));
    const duplicates = hook.duplicates.length;
    await sweep(facts(), lost, { config: only });
    expect(hook.events.length - before).toBe(1);
    expect(hook.duplicates.length).toBe(duplicates + 1);
  });

  it("never throws into the flow: an unreachable service or a broken transport is recorded; a channel without its secret here is left to another machine", async () => {
    const dir = mkdtempSync(join(tmpdir(), "interlock-notify-"));
    clock = T0;
    const report = await sweep([hostileFacts()], dir, {
      env: { ...env(), INTERLOCK_SLACK_TOKEN: "", INTERLOCK_WEBHOOK_URL: "http://127.0.0.1:1/x" },
      transports: {
        slack: async () => {
          throw new Error("boom");
        },
        post: async (url) => {
          if (url.includes("127.0.0.1:1")) throw new TypeError("fetch failed");
          throw Object.assign(new Error("weird"), { code: 42 });
        },
      },
    });
    expect(report.delivered).toEqual([]);
    expect(report.unconfigured).toEqual(["ops"]);
    expect(report.undelivered.map((d) => [d.channel, d.status]).sort()).toEqual([
      ["hook", "retrying"],
      ["teams", "retrying"],
    ]);
    const broken = await sweep([hostileFacts({}, "01JBR0KEN00000000000000000")], dir, {
      transports: {
        slack: async () => {
          throw new Error("boom");
        },
        post: async () => {},
      },
    });
    expect(broken.undelivered.find((d) => d.channel === "ops")!.error).toMatch(/boom/);
  });

  it("one sweep at a time: a second one does nothing rather than wait or send twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "interlock-notify-"));
    const release = tryLock(dir, T0)!;
    const r = await sweep([hostileFacts()], dir);
    expect(r.locked).toBe(true);
    release();
    expect((await sweep([hostileFacts()], dir)).locked).toBe(false);
  });

  it("config decides who is told, per group and per risk", async () => {
    const { channelsFor } = await import("../src/notify/config.ts");
    const c = notificationsConfigSchema.parse({
      channels: {
        sec: { type: "slack", channel: "C1" },
        data: { type: "slack", channel: "C2" },
        all: { type: "webhook" },
      },
      routes: [
        { channels: ["sec"], risk: ["critical"] },
        { channels: ["data"], groups: ["data-stewards"], events: ["filed", "expired"] },
        { channels: ["all"] },
      ],
    });
    const subject = {
      risk: "high",
      groups: [{ name: "data-stewards", owners: ["@acme/data-stewards"] }],
    };
    expect(channelsFor(c, subject, "filed")).toEqual(["data", "all"]);
    expect(channelsFor(c, subject, "approved")).toEqual(["all"]);
    expect(channelsFor(c, { ...subject, risk: "critical" }, "approved")).toEqual(["sec", "all"]);
    expect(
      channelsFor(
        c,
        { risk: "low", groups: [{ name: "x", owners: ["@ACME/DATA-STEWARDS"] }] },
        "filed",
      ),
    ).toEqual(["all"]);
  });
});

describe("notification config", () => {
  const base = (notifications: unknown) =>
    [
      "version: 1",
      "org: acme",
      "people: {}",
      "teams: {}",
      "executors: { recipients: ['age1" + "q".repeat(58) + "'], actions: {} }",
      `notifications: ${JSON.stringify(notifications)}`,
    ].join("\n");

  it("as a repository writer, a channel secret cannot be written into the config", () => {
    expect(() =>
      parseConfig(base({ channels: { s: { type: "slack", channel: "C1", token: SLACK_TOKEN } } })),
    ).toThrow(/token/);
    expect(() =>
      parseConfig(base({ channels: { t: { type: "teams", url: "https://x.example/w?sig=1" } } })),
    ).toThrow(/url/);
  });

  it("as a repository writer, a channel cannot be pointed at an unrelated secret of the environment", () => {
    for (const name of ["AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "interlock_x", "INTERLOCK_"]) {
      expect(() =>
        parseConfig(base({ channels: { t: { type: "teams", url_env: name } } })),
      ).toThrow(/INTERLOCK_/);
    }
  });

  it("as a repository writer, a channel cannot borrow another role's INTERLOCK_ secret", () => {
    // Cross-wired, the webhook's HMAC key or a GitHub token would go out as the Slack bearer
    // token, or a Slack token as the Teams URL: each name only in its own role.
    const crossed = [
      { type: "slack", channel: "C1", token_env: "INTERLOCK_WEBHOOK_SECRET" },
      { type: "slack", channel: "C1", token_env: "INTERLOCK_LIVE_GITHUB_TOKEN" },
      { type: "teams", url_env: "INTERLOCK_SLACK_TOKEN" },
      { type: "webhook", url_env: "INTERLOCK_GITHUB_TOKEN" },
      { type: "webhook", secret_env: "INTERLOCK_SLACK_TOKEN" },
    ];
    for (const channel of crossed) {
      expect(
        () => parseConfig(base({ channels: { c: channel } })),
        JSON.stringify(channel),
      ).toThrow(/INTERLOCK_/);
    }
    expect(() =>
      parseConfig(
        base({
          channels: {
            s: { type: "slack", channel: "C1", token_env: "INTERLOCK_SLACK_TOKEN_OPS" },
            t: { type: "teams", url_env: "INTERLOCK_TEAMS_WEBHOOK_URL_SEC" },
            w: {
              type: "webhook",
              url_env: "INTERLOCK_WEBHOOK_URL_SIEM",
              secret_env: "INTERLOCK_WEBHOOK_SECRET_SIEM",
            },
          },
        }),
      ),
    ).not.toThrow();
  });

  it("a route naming an unknown channel is refused", () => {
    expect(() => parseConfig(base({ channels: {}, routes: [{ channels: ["nope"] }] }))).toThrow(
      /nope/,
    );
  });
});
