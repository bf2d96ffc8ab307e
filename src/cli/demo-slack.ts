import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The demo's Slack channel: a local stand-in for Slack's Web API (chat.postMessage and
 * chat.update) that Interlock's real Slack client talks to, so the demo shows, without the
 * internet, the masked card a reviewer's channel receives and how it is updated in place.
 */
export interface DemoSlack {
  /** The Web API base URL (INTERLOCK_SLACK_API_URL). */
  readonly url: string;
  /** The channel's messages, by ts, as last posted or updated. */
  readonly messages: Map<string, { blocks: unknown[]; updates: number }>;
  close(): Promise<void>;
}

export async function startDemoSlack(token: string): Promise<DemoSlack> {
  const messages = new Map<string, { blocks: unknown[]; updates: number }>();
  let n = 0;
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString("utf8")));
    req.on("end", () => {
      const reply = (body: unknown) =>
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (req.headers.authorization !== `Bearer ${token}`) {
        return reply({ ok: false, error: "invalid_auth" });
      }
      const args = Object.fromEntries(new URLSearchParams(raw));
      let blocks: unknown[] = [];
      try {
        blocks = JSON.parse(args.blocks ?? "[]") as unknown[];
      } catch {
        return reply({ ok: false, error: "invalid_blocks" });
      }
      if (req.url?.endsWith("/chat.postMessage")) {
        const ts = `${Math.floor(Date.now() / 1000)}.${String(++n).padStart(6, "0")}`;
        messages.set(ts, { blocks, updates: 0 });
        return reply({ ok: true, channel: args.channel, ts });
      }
      const m = req.url?.endsWith("/chat.update") ? messages.get(args.ts ?? "") : undefined;
      if (m === undefined) return reply({ ok: false, error: "message_not_found" });
      m.blocks = blocks;
      m.updates += 1;
      return reply({ ok: true, channel: args.channel, ts: args.ts });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    messages,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A Block Kit message as a terminal shows it (the demo's view of the channel). */
export function slackAsText(blocks: readonly unknown[]): string[] {
  const lines: string[] = [];
  const decode = (s: string) =>
    s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  for (const b of blocks as {
    type: string;
    text?: { text: string };
    fields?: { text: string }[];
    elements?: { text?: string; elements?: { text: string }[] }[];
  }[]) {
    if (b.text) lines.push(...decode(b.text.text).split("\n"));
    for (const f of b.fields ?? []) lines.push(decode(f.text).replace("\n", ": "));
    if (b.type === "context") for (const e of b.elements ?? []) lines.push(decode(e.text ?? ""));
    if (b.type === "rich_text") {
      for (const e of b.elements ?? [])
        for (const t of e.elements ?? []) lines.push(...decode(t.text).split("\n"));
    }
  }
  return lines;
}
