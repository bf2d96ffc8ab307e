/**
 * Local stand-ins for the services notifications reach, accepting what the real ones accept:
 * Slack's Web API (chat.postMessage, chat.update: a bearer token, form-encoded arguments,
 * blocks as JSON), a Teams incoming webhook (a message with one Adaptive Card, validated with
 * the Adaptive Cards library) and a webhook consumer that verifies the signature from the
 * documented scheme (written here from docs/notifications.md, not with Interlock's code).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";

export interface Received {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly raw: string;
}

export interface LocalServer {
  readonly url: string;
  readonly received: Received[];
  /** Answers to give next, in order (status codes); then 200. */
  readonly failures: number[];
  close(): Promise<void>;
}

async function listen(
  handle: (req: IncomingMessage, raw: string, res: ServerResponse, s: LocalServer) => void,
): Promise<LocalServer> {
  const received: Received[] = [];
  const failures: number[] = [];
  const holder: { server?: Server } = {};
  const api: LocalServer = {
    url: "",
    received,
    failures,
    close: () => new Promise((r) => holder.server!.close(() => r())),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      received.push({ path: req.url ?? "", headers: req.headers, raw });
      const fail = failures.shift();
      if (fail !== undefined) {
        res.writeHead(fail, { "content-type": "text/plain" }).end("failing on purpose");
        return;
      }
      handle(req, raw, res, api);
    });
  });
  holder.server = server;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  (api as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return api;
}

/** A Slack message as the fake keeps it. */
export interface SlackPosted {
  readonly channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  updates: number;
  /** Slack message metadata ({event_type, event_payload}), as posted. */
  metadata?: unknown;
}

/** Slack's Web API: checks the token and the arguments, keeps each message by ts. */
export async function fakeSlack(
  token: string,
): Promise<LocalServer & { messages: Map<string, SlackPosted> }> {
  const messages = new Map<string, SlackPosted>();
  let n = 0;
  const s = await listen((req, raw, res) => {
    const reply = (body: unknown) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${token}`)
      return reply({ ok: false, error: "invalid_auth" });
    const type = req.headers["content-type"] ?? "";
    const args: Record<string, string> = type.startsWith("application/json")
      ? JSON.parse(raw)
      : Object.fromEntries(new URLSearchParams(raw));
    if (req.url === "/api/conversations.history") {
      // Newest first; message metadata only with include_all_metadata
      // (https://docs.slack.dev/reference/methods/conversations.history).
      const all = String(args.include_all_metadata) === "true";
      const inChannel = [...messages.values()].filter((m) => m.channel === args.channel).reverse();
      return reply({
        ok: true,
        messages: inChannel.map((m) => ({
          type: "message",
          ts: m.ts,
          text: m.text,
          ...(all && m.metadata ? { metadata: m.metadata } : {}),
        })),
        has_more: false,
      });
    }
    const blocks = typeof args.blocks === "string" ? JSON.parse(args.blocks) : args.blocks;
    if (!args.channel || typeof args.text !== "string" || !Array.isArray(blocks)) {
      return reply({ ok: false, error: "invalid_arguments" });
    }
    if (req.url === "/api/chat.postMessage") {
      const ts = `1700000000.${String(++n).padStart(6, "0")}`;
      const metadata =
        typeof args.metadata === "string" ? (JSON.parse(args.metadata) as unknown) : args.metadata;
      messages.set(ts, {
        channel: args.channel,
        ts,
        text: args.text,
        blocks,
        updates: 0,
        ...(metadata ? { metadata } : {}),
      });
      return reply({ ok: true, channel: args.channel, ts });
    }
    if (req.url === "/api/chat.update") {
      const m = messages.get(args.ts ?? "");
      if (!m || m.channel !== args.channel) return reply({ ok: false, error: "message_not_found" });
      m.text = args.text;
      m.blocks = blocks;
      m.updates += 1;
      return reply({ ok: true, channel: m.channel, ts: m.ts });
    }
    reply({ ok: false, error: "unknown_method" });
  });
  return Object.assign(s, { messages });
}

/** Adaptive Cards, validated with the Adaptive Cards library (the parser hosts use). */
export function adaptiveCardProblems(card: unknown): string[] {
  // The package's ES build imports without file extensions; its UMD bundle loads in Node.
  const AC = createRequire(import.meta.url)("adaptivecards/dist/adaptivecards.js") as {
    AdaptiveCard: new () => {
      parse(json: unknown, ctx: unknown): void;
      toJSON(ctx?: unknown): unknown;
      validateProperties(): { validationEvents?: { message: string }[] };
    };
    SerializationContext: new () => {
      eventCount: number;
      getEventAt(i: number): { message: string };
    };
  };
  const c = new AC.AdaptiveCard();
  const ctx = new AC.SerializationContext();
  c.parse(card, ctx);
  const problems: string[] = [];
  for (let i = 0; i < ctx.eventCount; i++) problems.push(ctx.getEventAt(i).message);
  for (const e of c.validateProperties().validationEvents ?? []) problems.push(e.message);
  // Unknown properties are dropped silently by the parser: every one we sent must survive.
  const back = JSON.stringify(c.toJSON());
  const lost = missingKeys(card, JSON.parse(back) as unknown, "");
  return [...problems, ...lost.map((p) => `not a property the library knows: ${p}`)];
}

function missingKeys(sent: unknown, kept: unknown, at: string): string[] {
  if (Array.isArray(sent)) {
    return sent.flatMap((v, i) =>
      missingKeys(v, (kept as unknown[] | undefined)?.[i], `${at}/${i}`),
    );
  }
  if (sent === null || typeof sent !== "object") return [];
  const k = (kept ?? {}) as Record<string, unknown>;
  return Object.entries(sent as Record<string, unknown>).flatMap(([key, v]) =>
    key === "$schema" ? [] : key in k ? missingKeys(v, k[key], `${at}/${key}`) : [`${at}/${key}`],
  );
}

/** A Teams incoming webhook: a message with exactly one valid Adaptive Card attachment. */
export async function fakeTeams(): Promise<LocalServer & { cards: unknown[] }> {
  const cards: unknown[] = [];
  const s = await listen((req, raw, res) => {
    try {
      const msg = JSON.parse(raw) as {
        type?: string;
        attachments?: { contentType?: string; content?: unknown }[];
      };
      const a = msg.attachments;
      if (msg.type !== "message" || !Array.isArray(a) || a.length !== 1)
        throw new Error("not a message");
      if (a[0]!.contentType !== "application/vnd.microsoft.card.adaptive")
        throw new Error("not a card");
      const problems = adaptiveCardProblems(a[0]!.content);
      if (problems.length > 0) throw new Error(problems.join("; "));
      cards.push(a[0]!.content);
      res.writeHead(202).end();
    } catch (err) {
      res.writeHead(400, { "content-type": "text/plain" }).end((err as Error).message);
    }
  });
  return Object.assign(s, { cards });
}

/**
 * A webhook consumer written from the documented scheme: HMAC-SHA256 with the shared key over
 * "<X-Interlock-Timestamp>.<raw body>", hex, prefixed "sha256=", in X-Interlock-Signature,
 * compared in constant time; a timestamp more than 5 minutes away is refused; events are
 * deduplicated by X-Interlock-Event-Id.
 */
export async function fakeConsumer(
  secret: string,
  now: () => Date,
): Promise<LocalServer & { events: unknown[]; rejected: string[]; duplicates: string[] }> {
  const events: unknown[] = [];
  const rejected: string[] = [];
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const s = await listen((req, raw, res) => {
    const ts = String(req.headers["x-interlock-timestamp"] ?? "");
    const sig = String(req.headers["x-interlock-signature"] ?? "");
    const expected = "sha256=" + createHmac("sha256", secret).update(`${ts}.${raw}`).digest("hex");
    const fresh = /^\d+$/.test(ts) && Math.abs(now().getTime() / 1000 - Number(ts)) <= 300;
    const ok =
      fresh &&
      sig.length === expected.length &&
      timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
    if (!ok) {
      rejected.push(sig);
      return res.writeHead(401).end();
    }
    const id = String(req.headers["x-interlock-event-id"] ?? "");
    if (seen.has(id)) duplicates.push(id);
    else {
      seen.add(id);
      events.push(JSON.parse(raw));
    }
    res.writeHead(204).end();
  });
  return Object.assign(s, { events, rejected, duplicates });
}
