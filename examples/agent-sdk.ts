/**
 * An agent that asks before it acts, through Interlock's SDK.
 *
 *   interlock init /tmp/approvals                       # a local approvals repository
 *   npx tsx examples/agent-sdk.ts /tmp/approvals        # the agent asks and waits
 *
 * and, in another terminal, a reviewer decides:
 *
 *   interlock show <id> --repo /tmp/approvals
 *   interlock approve <id> --as dana --repo /tmp/approvals   # or: reject … --note "why"
 *   interlock merge <id> --repo /tmp/approvals && interlock execute --repo /tmp/approvals
 *
 * Run it again with the id (`npx tsx examples/agent-sdk.ts /tmp/approvals <id>`) to resume
 * waiting from another process.
 */
import { requestApproval, resumeApproval } from "../src/index.ts";

const [repo, resumeId] = process.argv.slice(2);
if (repo === undefined) {
  console.error("usage: npx tsx examples/agent-sdk.ts <approvals repository> [request id]");
  process.exit(2);
}
const options = { repo, as: "agent:etl-bot" };

const handle = resumeId
  ? await resumeApproval(resumeId, options)
  : await requestApproval(
      {
        action: "db.export",
        resource: "postgres://prod/customers",
        params: {
          query: "select id, plan from customers where region = 'eu'",
          destination: "s3://analytics-exports/churn/2026-11/",
        },
        reason: "Weekly churn analysis",
        ttl: "24h",
      },
      options,
    );
console.log(`request ${handle.id}${handle.denied ? " was denied by policy" : " filed; waiting"}`);

// Bounded waits: each look returns within a minute; the agent decides what to do meanwhile.
for (let i = 0; i < 10; i++) {
  const outcome = await handle.decision({ timeoutMs: 60_000 });
  switch (outcome.status) {
    case "waiting":
      console.log(`still ${outcome.state}: ${outcome.summary}`);
      continue;
    case "approved":
      console.log(
        `approved by ${outcome.approvers.join(", ")}; ran: ${outcome.execution?.outcome}`,
      );
      console.log(outcome.execution?.output ?? "");
      break;
    case "rejected":
      for (const r of outcome.reasons)
        console.log(`rejected by ${r.reviewer}: ${r.note ?? "(no reason)"}`);
      break;
    case "denied":
      console.log(`denied: ${outcome.reasons.join("; ")}`);
      break;
    case "expired":
    case "withdrawn":
      console.log(outcome.status);
      break;
  }
  process.exit(0);
}
console.log(`no decision yet; resume with: npx tsx examples/agent-sdk.ts ${repo} ${handle.id}`);
