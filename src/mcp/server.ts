import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { InterlockError } from "../errors.ts";
import { REQUEST_ID } from "../forge/refs.ts";
import { REQUEST_STATES } from "../lifecycle/status.ts";
import { maskText } from "../masking/mask.ts";
import {
  decisionOf,
  handleFor,
  MAX_WAIT_MS,
  type ApprovalBackend,
  type ApprovalStatus,
  type SdkClock,
} from "../sdk/approval.ts";

/**
 * Interlock as an MCP server: the tools an agent needs to ask and learn the outcome, over the
 * SDK (one implementation of request state). Every output is masked (the records are already;
 * every string passes the detectors once more on its way out). Tool annotations tell a client
 * which tools change state: filing and withdrawing do; the others only read.
 */

/** A wait inside one tool call is bounded well under common client request timeouts. */
export const MAX_TOOL_WAIT_SECONDS = 50;

export interface McpServerOptions {
  readonly backend: ApprovalBackend;
  readonly version: string;
  /** Who files (shown in the server's instructions). */
  readonly requester: string;
  readonly clock?: SdkClock;
}

const ID = z.string().regex(REQUEST_ID).describe("the request id returned by request_approval");

/** Builds the server (the MCP SDK is loaded here, when a server is wanted). */
export async function createMcpServer(o: McpServerOptions): Promise<McpServer> {
  const { McpServer } = await import("@modelcontextprotocol/sdk/server/mcp.js");
  const server = new McpServer(
    { name: "interlock", version: o.version },
    {
      instructions:
        `Privileged actions ask first. File a request with request_approval (as ${o.requester}); ` +
        "people review it; then wait_for_decision tells you the outcome: approved (with the " +
        "executed result), rejected (with the reviewers' reasons: revise and ask again), denied " +
        "(the policy's reasons), expired or withdrawn. Waits are bounded: call " +
        "wait_for_decision again with the same id to keep waiting. Never retry a denied " +
        "request unchanged.",
    },
  );
  const b = o.backend;
  const clock = o.clock;

  server.registerTool(
    "request_approval",
    {
      title: "Request approval for a privileged action",
      description:
        "Files a request: the policy decides at once (denied, or which people must approve), " +
        "sensitive values are masked, and a proposal waits for signed reviews. Returns the " +
        "request id; use wait_for_decision with it.",
      inputSchema: {
        action: z.string().describe("dotted action type, e.g. db.export"),
        resource: z.string().describe("what it acts on, e.g. postgres://prod/customers"),
        reason: z.string().describe("why, for the reviewers"),
        params: z.unknown().optional().describe("the action's parameters (JSON)"),
        ttl: z.string().optional().describe("how long approval may take, e.g. 24h"),
        on_behalf_of: z.string().optional().describe("ignored: an agent's sponsor is configured"),
      },
      annotations: {
        title: "Request approval",
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    async (args) =>
      run(async () => {
        const { on_behalf_of: _ignored, ...request } = args;
        const filed = await b.file(request);
        return {
          id: filed.id,
          denied: filed.denied,
          ...(filed.denied ? { reasons: filed.denyReasons } : {}),
          review_url: filed.url,
          next: filed.denied
            ? "Denied by policy: do not retry unchanged."
            : `Call wait_for_decision with id ${filed.id}.`,
        };
      }),
  );

  server.registerTool(
    "check_status",
    {
      title: "Check a request's status",
      description: "Where a request stands now, what it waits for, and who can approve it.",
      inputSchema: { id: ID },
      annotations: { title: "Check status", readOnlyHint: true, openWorldHint: false },
    },
    async ({ id }) =>
      run(async () => {
        const s = await b.status(id);
        return { ...statusJson(s), decision: decisionOf(s) ?? null };
      }),
  );

  server.registerTool(
    "wait_for_decision",
    {
      title: "Wait for a decision",
      description:
        `Waits up to timeout_seconds (at most ${MAX_TOOL_WAIT_SECONDS}) for the request to be ` +
        "decided. Returns the decision, or status 'waiting' with where it stands: call again " +
        "with the same id to keep waiting (it can be resumed at any time, from any session).",
      inputSchema: {
        id: ID,
        timeout_seconds: z.number().min(0).max(MAX_TOOL_WAIT_SECONDS).optional(),
        until: z
          .enum(["approved", "executed"])
          .optional()
          .describe("executed (default): resolve approved requests once they have run"),
      },
      annotations: {
        title: "Wait for a decision",
        readOnlyHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async ({ id, timeout_seconds, until }) =>
      run(async () => {
        const timeoutMs = Math.min((timeout_seconds ?? 20) * 1000, MAX_WAIT_MS);
        const handle = handleFor(b, id, clock);
        return await handle.decision({ timeoutMs, pollMs: 1000, ...(until ? { until } : {}) });
      }),
  );

  server.registerTool(
    "list_my_requests",
    {
      title: "List my requests",
      description: "The requests this agent filed, oldest first, with their states.",
      inputSchema: {
        state: z.enum(REQUEST_STATES).optional(),
      },
      annotations: { title: "List my requests", readOnlyHint: true, openWorldHint: false },
    },
    async ({ state }) =>
      run(async () => ({
        requests: (await b.list()).filter((s) => !state || s.state === state).map(statusJson),
      })),
  );

  server.registerTool(
    "withdraw_request",
    {
      title: "Withdraw a request",
      description:
        "Withdraws a request this agent filed (signed by the agent): it can never be approved " +
        "or run afterwards. Withdrawing twice is the same as once.",
      inputSchema: { id: ID, reason: z.string().max(1000).optional() },
      annotations: {
        title: "Withdraw",
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async ({ id, reason }) =>
      run(async () => {
        await b.withdraw(id, reason);
        return { id, withdrawn: true };
      }),
  );

  return server;
}

function statusJson(s: ApprovalStatus): Record<string, unknown> {
  return {
    id: s.id,
    state: s.state,
    summary: s.summary,
    action: s.action,
    risk: s.risk,
    requested_at: s.requestedAt,
    expires_at: s.expiresAt,
    reviewers: s.reviewers,
    approvers: s.approvers,
    rejections: s.rejections,
    deny_reasons: s.denyReasons,
    execution: s.execution,
    withdrawn_by: s.withdrawnBy,
    review_url: s.url,
  };
}

/** Every string of a value through the detectors: the last line before text leaves. */
export function maskStrings(v: unknown): unknown {
  if (typeof v === "string") return maskText(v);
  if (Array.isArray(v)) return v.map(maskStrings);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [maskText(k), maskStrings(x)]));
  }
  return v;
}

/** A tool's answer: masked JSON; a failure is a tool error with a reason, never a crash. */
async function run(f: () => Promise<unknown>) {
  try {
    const value = maskStrings(await f()) as Record<string, unknown>;
    return {
      content: [{ type: "text" as const, text: JSON.stringify(value, null, 2) }],
      structuredContent: value,
    };
  } catch (err) {
    const e =
      err instanceof InterlockError
        ? err
        : new InterlockError("internal", String((err as Error)?.message ?? err));
    return {
      isError: true,
      content: [
        {
          type: "text" as const,
          text: maskText(`${e.code}: ${e.message}${e.hint ? `\nnext: ${e.hint}` : ""}`),
        },
      ],
    };
  }
}
