/**
 * `interlock mcp` end to end: the MCP SDK's own client talks to the real command over stdio,
 * against a real local approvals repository; and the MCP Inspector's CLI mode drives it too.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Clock, homeEnv, Repo, requests, ROOT } from "./e2e-helpers.ts";

const BIN = join(ROOT, "bin", "interlock.js");
const INSPECTOR = join(
  ROOT,
  "node_modules",
  "@modelcontextprotocol",
  "inspector",
  "clients",
  "launcher",
  "build",
  "index.js",
);
const TOKEN = "ghp_" + "Mc9".repeat(12);

let repo: Repo;
let client: Client;

type ToolResult = {
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
  content: unknown;
};

async function call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = (await client.callTool({ name, arguments: args })) as ToolResult;
  const text = JSON.stringify(r);
  expect(text).not.toContain(TOKEN);
  if (r.isError) throw new Error(`${name} failed: ${JSON.stringify(r.content)}`);
  return r.structuredContent!;
}

beforeAll(async () => {
  repo = await Repo.init(new Clock(new Date().toISOString()));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, "mcp", "--as", "agent:etl-bot", "--repo", repo.dir],
    env: homeEnv(repo.home) as Record<string, string>,
    stderr: "pipe",
  });
  client = new Client({ name: "interlock-test", version: "0" });
  await client.connect(transport);
}, 60_000);

afterAll(async () => {
  await client?.close();
});

describe("interlock mcp over stdio, with the MCP SDK's client", () => {
  it("lists five tools; the ones that change state say so", async () => {
    const { tools } = await client.listTools();
    const hints = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(hints.request_approval?.readOnlyHint).toBe(false);
    expect(hints.withdraw_request).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(hints.check_status?.readOnlyHint).toBe(true);
    expect(hints.wait_for_decision?.readOnlyHint).toBe(true);
    expect(hints.list_my_requests?.readOnlyHint).toBe(true);
  });

  it("an agent asks, waits (bounded, resumable) and learns the executed outcome; every output masked", async () => {
    const { requester: _r, ...request } = requests.export();
    const filed = await call("request_approval", {
      ...request,
      params: { ...request.params, note: `token ${TOKEN}` },
    });
    expect(filed.denied).toBe(false);
    const id = String(filed.id);
    const waiting = await call("wait_for_decision", { id, timeout_seconds: 0 });
    // A token in the params makes it a security matter too: dana and sam.
    expect(waiting).toMatchObject({
      status: "waiting",
      state: "pending",
      reviewers: ["dana", "sam"],
    });
    await repo.approve(id, "dana");
    await repo.approve(id, "sam");
    expect((await repo.merge(id)).code).toBe(0);
    await repo.execute();
    const decided = await call("wait_for_decision", { id, timeout_seconds: 5 });
    expect(decided).toMatchObject({
      status: "approved",
      approvers: ["dana", "sam"],
      execution: { outcome: "succeeded" },
    });
    const mine = (await call("list_my_requests", {})).requests as { id: string; state: string }[];
    expect(mine).toContainEqual(expect.objectContaining({ id, state: "executed" }));
  }, 60_000);

  it("withdraws its own request, twice the same as once; a bad id is a tool error", async () => {
    const { requester: _r, ...request } = requests.export();
    const id = String((await call("request_approval", request)).id);
    expect(await call("withdraw_request", { id, reason: "no longer needed" })).toEqual({
      id,
      withdrawn: true,
    });
    expect(await call("withdraw_request", { id })).toEqual({ id, withdrawn: true });
    expect(await call("check_status", { id })).toMatchObject({
      state: "withdrawn",
      decision: { status: "withdrawn" },
    });
    const bad = (await client.callTool({
      name: "check_status",
      arguments: { id: "../../x" },
    })) as ToolResult;
    expect(bad.isError).toBe(true);
  }, 60_000);

  it("as the requester, reading another agent's request is refused: status, waits and lists show only its own", async () => {
    const other = await repo.request(requests.query(7)); // filed by agent:catalogue-bot
    for (const [tool, args] of [
      ["check_status", { id: other.id }],
      ["wait_for_decision", { id: other.id, timeout_seconds: 0 }],
    ] as const) {
      const r = (await client.callTool({ name: tool, arguments: args })) as ToolResult;
      expect(r.isError, tool).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/was not filed by agent:etl-bot/);
      expect(JSON.stringify(r.content)).not.toMatch(/shelf/);
    }
    const mine = (await call("list_my_requests", {})).requests as { id: string }[];
    expect(mine.map((m) => m.id)).not.toContain(other.id);
  }, 60_000);
});

describe("the MCP Inspector's CLI mode", () => {
  it("lists the tools and calls one through `inspector --cli`", async () => {
    expect(existsSync(INSPECTOR), "@modelcontextprotocol/inspector is a devDependency").toBe(true);
    const run = promisify(execFile);
    // The Inspector passes the server only the environment given with -e.
    const server = [
      "-e",
      `INTERLOCK_HOME=${repo.home}`,
      process.execPath,
      BIN,
      "mcp",
      "--as",
      "agent:etl-bot",
      "--repo",
      repo.dir,
    ];
    const env = { ...homeEnv(repo.home) };
    const listed = await run(
      process.execPath,
      [INSPECTOR, "--cli", ...server, "--method", "tools/list"],
      {
        env,
        timeout: 60_000,
      },
    );
    const names = (JSON.parse(listed.stdout) as { tools: { name: string }[] }).tools
      .map((t) => t.name)
      .sort();
    expect(names).toEqual([
      "check_status",
      "list_my_requests",
      "request_approval",
      "wait_for_decision",
      "withdraw_request",
    ]);
    const called = await run(
      process.execPath,
      [INSPECTOR, "--cli", ...server, "--method", "tools/call", "--tool-name", "list_my_requests"],
      { env, timeout: 60_000 },
    );
    expect(called.stdout).toContain("requests");
  }, 120_000);
});
