/**
 * The SDK's waiting rules and the MCP server's tools, over a backend double (the end-to-end
 * tests run both against a real local approvals repository).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { describe, expect, it } from "vitest";
import { createMcpServer } from "../src/mcp/server.ts";
import {
  handleFor,
  type ApprovalBackend,
  type ApprovalState,
  type ApprovalStatus,
  type SdkClock,
} from "../src/sdk/approval.ts";

const ID = "01JW41T0000000000000000000";

function status(state: ApprovalState, over: Partial<ApprovalStatus> = {}): ApprovalStatus {
  return {
    id: ID,
    state,
    summary: `it is ${state}`,
    action: "db.export",
    risk: "high",
    requester: "agent:etl-bot",
    requestedAt: "2026-11-24T10:00:00.000Z",
    expiresAt: "2026-11-25T10:00:00.000Z",
    denyReasons: [],
    rejections: [],
    approvers: [],
    reviewers: ["dana"],
    execution: null,
    withdrawnBy: null,
    url: null,
    ...over,
  };
}

/** A backend whose request goes through `states`, one per look; and a clock that only ticks. */
function scripted(states: ApprovalStatus[]): {
  backend: ApprovalBackend;
  clock: SdkClock;
  looks: () => number;
} {
  let looks = 0;
  let t = 0;
  const backend: ApprovalBackend = {
    file: async () => ({ id: ID, denied: false, denyReasons: [], url: null }),
    status: async () => states[Math.min(looks++, states.length - 1)]!,
    withdraw: async () => {},
    list: async () => [states[0]!],
  };
  const clock: SdkClock = { now: () => new Date(t), sleep: async (ms) => void (t += ms) };
  return { backend, clock, looks: () => looks };
}

describe("decision(): bounded waits", () => {
  it("resolves approved with the executed result once the request has run", async () => {
    const execution = {
      outcome: "succeeded",
      finishedAt: null,
      output: "ok",
      error: null,
      exitCode: 0,
      httpStatus: null,
    };
    const s = scripted([
      status("pending"),
      status("approved"),
      status("merged"),
      status("executed", { approvers: ["dana"], execution }),
    ]);
    const d = await handleFor(s.backend, ID, s.clock).decision({ timeoutMs: 60_000, pollMs: 1000 });
    expect(d).toEqual({ status: "approved", id: ID, approvers: ["dana"], execution });
  });

  it("until approved: resolves as soon as the gate holds", async () => {
    const s = scripted([status("pending"), status("approved", { approvers: ["dana"] })]);
    const d = await handleFor(s.backend, ID, s.clock).decision({
      timeoutMs: 60_000,
      until: "approved",
    });
    expect(d).toMatchObject({ status: "approved", execution: null });
  });

  it("a wait that runs out is a result (waiting), bounded by the timeout", async () => {
    const s = scripted([status("pending")]);
    const d = await handleFor(s.backend, ID, s.clock).decision({ timeoutMs: 10_000, pollMs: 1000 });
    expect(d).toEqual({
      status: "waiting",
      id: ID,
      state: "pending",
      summary: "it is pending",
      reviewers: ["dana"],
    });
    expect(s.looks()).toBe(11);
    // Default: look once, never wait.
    const once = scripted([status("pending")]);
    await handleFor(once.backend, ID, once.clock).decision();
    expect(once.looks()).toBe(1);
  });

  it("rejected, denied, expired and withdrawn resolve with their reasons", async () => {
    const rej = {
      reviewer: "dana",
      note: "narrow the export to one region",
      at: "2026-11-24T10:05:00.000Z",
    };
    const cases: [ApprovalStatus, unknown][] = [
      [status("rejected", { rejections: [rej] }), { status: "rejected", id: ID, reasons: [rej] }],
      [
        status("denied", { denyReasons: ["no exports of production"] }),
        { status: "denied", id: ID, reasons: ["no exports of production"] },
      ],
      [status("expired"), { status: "expired", id: ID, expiredAt: "2026-11-25T10:00:00.000Z" }],
      [
        status("withdrawn", { withdrawnBy: "agent:etl-bot" }),
        { status: "withdrawn", id: ID, by: "agent:etl-bot" },
      ],
    ];
    for (const [st, want] of cases) {
      const s = scripted([st]);
      expect(await handleFor(s.backend, ID, s.clock).decision({ timeoutMs: 5000 })).toEqual(want);
    }
  });

  it("as the requester, a handle cannot be made for something that is not a request id", () => {
    const s = scripted([status("pending")]);
    for (const bad of ["../../etc/passwd", "01JW41T000000000000000000", "x".repeat(5000)]) {
      expect(() => handleFor(s.backend, bad, s.clock)).toThrow(/not a request id/);
    }
  });
});

describe("the MCP server's tools", () => {
  async function connect(backend: ApprovalBackend) {
    const server = await createMcpServer({
      backend,
      version: "0.0.0-test",
      requester: "agent:etl-bot",
    });
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "test", version: "0" });
    await Promise.all([server.connect(a), client.connect(b)]);
    return client;
  }

  it("annotations mark the tools that change state", async () => {
    const client = await connect(scripted([status("pending")]).backend);
    const { tools } = await client.listTools();
    const by = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(Object.keys(by).sort()).toEqual([
      "check_status",
      "list_my_requests",
      "request_approval",
      "wait_for_decision",
      "withdraw_request",
    ]);
    expect(by.request_approval).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
    });
    expect(by.withdraw_request).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    });
    for (const t of ["check_status", "wait_for_decision", "list_my_requests"]) {
      expect(by[t]).toMatchObject({ readOnlyHint: true });
    }
  });

  it("as the requester, a secret in what a backend returns leaves the server masked", async () => {
    const token = "ghp_" + "Qw7".repeat(12);
    const s = scripted([
      status("rejected", {
        rejections: [{ reviewer: "dana", note: `do not paste ${token}`, at: "x" }],
      }),
    ]);
    const client = await connect(s.backend);
    const r = await client.callTool({ name: "check_status", arguments: { id: ID } });
    expect(JSON.stringify(r)).not.toContain(token);
    expect(JSON.stringify(r)).toContain("do not paste");
  });

  it("a failure is a tool error with a reason, not a crash", async () => {
    const s = scripted([status("pending")]);
    const client = await connect({
      ...s.backend,
      withdraw: async () => {
        throw new Error("only the requester who filed it can withdraw it");
      },
    });
    const r = await client.callTool({ name: "withdraw_request", arguments: { id: ID } });
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r.content)).toContain("only the requester");
    const bad = await client.callTool({ name: "check_status", arguments: { id: "nope" } });
    expect(bad.isError).toBe(true);
  });
});
