import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { parse as parseYaml, stringify } from "yaml";
import { EXIT } from "../errors.ts";
import { parseRequest } from "../request/parse.ts";
import { requestApproval } from "../sdk/local.ts";
import { slackAsText, startDemoSlack } from "./demo-slack.ts";
import type { CliIO } from "./io.ts";
import { main } from "./main.ts";
import { booleanFlag, type CommandInput } from "./command.ts";

const REQUEST = `# An agent wants to send a churn cohort to an outside analytics partner.
action: db.export
resource: postgres://prod/customers
params:
  query: "select id, plan, cancelled_at from customers where email = 'jane.doe@example.com' or phone = '+1 202-555-0143'"
  destination: s3://partner-share/acme/churn/
  format: parquet
reason: Share the weekly churn cohort with our analytics partner
requester:
  id: agent:etl-bot
  kind: agent
  on_behalf_of: alice
ttl: 4h
`;

const SELF_GRANT = `action: iam.grant
resource: aws://prod/iam
params: { principal: agent:etl-bot, role: AdministratorAccess }
reason: Need broader permissions to finish the export faster
requester: { id: agent:etl-bot, kind: agent, on_behalf_of: alice }
`;

/**
 * `interlock demo`: the whole story end to end in a temporary approvals repository, narrated.
 * Every step runs the real command in-process, against real Git, with the real policy.
 */
export async function demoCommand(input: CommandInput, io: CliIO): Promise<number> {
  const values = { json: booleanFlag(input, "json") };
  const dir = mkdtempSync(join(tmpdir(), "interlock-demo-"));
  const repo = join(dir, "approvals");
  // The demo's own Interlock home (private keys), next to the repository and never inside it.
  const home = join(dir, "home");
  const color = Boolean(io.stdout.isTTY) && !values.json;
  const b = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const d = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);
  // A story clock: each step happens a little after the previous one (reviews must precede
  // the merge they count for), and stands still within a step.
  let clock = io.now().getTime();
  const at = () => new Date(clock);
  const say = (s: string) => io.stdout.write(`${s}\n`);
  const step = (n: number, title: string, story: string) =>
    say(`\n${b(`${n}. ${title}`)}\n${d(story)}\n`);

  /** Runs one interlock command in-process, shows it and its (indented) output. */
  const sh = async (
    argv: string[],
    stdin?: string,
    quiet = false,
  ): Promise<{ code: number; out: string }> => {
    let out = "";
    const sub: CliIO = {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (out += s) },
      stdin: Readable.from([stdin ?? ""]),
      env,
      cwd: dir,
      now: at,
    };
    clock += 2000;
    say(`  ${b("$")} interlock ${argv.join(" ")}`);
    const code = await main(argv, sub);
    const shown = quiet ? out.split("\n")[0]! : out.replace(/\n$/, "");
    say(shown.replace(/^/gm, "    "));
    return { code, out };
  };

  // The reviewers' Slack channel: a local stand-in for Slack's Web API, reached through
  // Interlock's real Slack client (no internet). The token is the demo's own.
  const token = ["xoxb", "demo", String(process.pid), "local"].join("-");
  const slack = await startDemoSlack(token);
  const env: NodeJS.ProcessEnv = {
    ...io.env,
    INTERLOCK_HOME: home,
    INTERLOCK_SLACK_TOKEN: token,
    INTERLOCK_SLACK_API_URL: slack.url,
  };
  const channel = () => {
    const [message] = [...slack.messages.values()];
    return message;
  };
  try {
    return await story();
  } finally {
    await slack.close();
  }

  async function story(): Promise<number> {
    say(b("Interlock demo: an AI agent asks first."));
    say(d(`Everything happens in ${repo}, a plain Git repository. No server, no GitHub.`));

    step(
      1,
      "Create an approvals repository",
      "Demo people: alice runs the agents; dana (data-stewards), sam (security), pat (platform), riley (release-managers) review.\n" +
        `Everyone's private key goes to the Interlock home (${home}), never into the repository.`,
    );
    await sh(["init", "approvals"]);

    say(
      d(
        "  The admins (sam, pat) approve a config change: requests for data-stewards are announced in\n" +
          "  their Slack channel (a local stand-in here).",
      ),
    );
    const config = join(repo, ".interlock", "config.yaml");
    const parsed = parseYaml(readFileSync(config, "utf8")) as Record<string, unknown>;
    parsed.notifications = {
      channels: { "data-stewards": { type: "slack", channel: "C0DATASTEWARDS" } },
      routes: [{ channels: ["data-stewards"], groups: ["data-stewards"] }],
    };
    writeFileSync(config, stringify(parsed, { lineWidth: 0 }));
    const change = await sh(
      ["propose-change", "approvals/.interlock/config.yaml", "--repo", "approvals"],
      undefined,
      true,
    );
    const changeId = /Proposed governance change (\S+)/.exec(change.out)?.[1] ?? "?";
    await sh(["approve", changeId, "--as", "sam", "--repo", "approvals"], undefined, true);
    await sh(["approve", changeId, "--as", "pat", "--repo", "approvals"], undefined, true);
    await sh(["merge", changeId, "--repo", "approvals"], undefined, true);

    step(
      2,
      "The agent asks, through the SDK",
      "etl-bot, started by alice, wants to export customers to a partner bucket. The query names a customer.\n" +
        "It asks with requestApproval() and signs with its own key: the requester is whoever signs, and its sponsor is bound in the config.\n" +
        "The policy classifies it, decides who must approve, and masks the personal data before anything is written.",
    );
    say(REQUEST.replace(/^/gm, "    "));
    say(
      `  ${b("agent>")} await requestApproval(request, { repo: "approvals", as: "agent:etl-bot" })`,
    );
    clock += 2000;
    const handle = await requestApproval(parseRequest(REQUEST), {
      repo,
      as: "agent:etl-bot",
      env,
      cwd: dir,
      clock: { now: at, sleep: async () => {} },
    });
    const id = handle.id;
    const first = await handle.decision();
    say(
      `    request ${id}: ${first.status}${first.status === "waiting" ? ` (${first.summary})` : ""}`,
    );
    await sh(["show", id, "--repo", "approvals"]);
    const posted = channel();
    if (posted === undefined) {
      // The story says the reviewers were told: when they were not, the demo says so and fails.
      say(
        `\n  ${b("#data-stewards")} (Slack) received nothing: the delivery failed (its error is listed by show, above).`,
      );
      return EXIT.failure;
    }
    say(`\n  ${b("#data-stewards")} ${d("(Slack) received, built from the masked card:")}`);
    for (const line of slackAsText(posted.blocks)) say(`    │ ${line}`);

    step(
      3,
      "The agent's human tries to approve it",
      "alice started the agent, so her approval would be the agent approving itself. It is recorded, and does not count.",
    );
    await sh(["approve", id, "--as", "alice", "--repo", "approvals"]);

    step(
      4,
      "The right people approve",
      "The destination is outside the export allow-list, so the request is critical: data-stewards and security must both approve.",
    );
    await sh(["approve", id, "--as", "dana", "--repo", "approvals"]);
    await sh(["approve", id, "--as", "sam", "--repo", "approvals"]);
    await sh(["gate", id, "--repo", "approvals"]);

    step(
      5,
      "Merge, then execute exactly once",
      "The merge records the approvers. The executor re-checks the evidence from history, claims the request, unseals the original params and runs (a harmless demo executor here).",
    );
    await sh(["merge", id, "--repo", "approvals"]);
    await sh(["execute", "--repo", "approvals"]);
    await sh(["execute", "--repo", "approvals"]);
    const outcome = await handle.decision();
    say(`  ${b("agent>")} await handle.decision()`);
    say(
      outcome.status === "approved"
        ? `    approved by ${outcome.approvers.join(", ")}; executed: ${outcome.execution?.outcome ?? "not yet"}`
        : `    ${outcome.status}`,
    );
    const final = channel();
    say(
      `\n  ${b("#data-stewards")} ${d(`(Slack) the same message, updated in place ${final?.updates ?? 0} times:`)}`,
    );
    for (const line of slackAsText(final?.blocks ?? []).slice(0, 2)) say(`    │ ${line}`);

    step(
      6,
      "The agent tries to grant itself admin",
      "Denied by policy, and the denied attempt is kept as evidence.",
    );
    writeFileSync(join(dir, "self-grant.yaml"), SELF_GRANT);
    const denied = await sh([
      "request",
      "--json",
      "self-grant.yaml",
      "--as",
      "agent:etl-bot",
      "--repo",
      "approvals",
    ]);

    step(
      7,
      "The audit trail, verified from Git history alone",
      "Every executed request: approved by the right people on the exact content, untampered, with its result.",
    );
    const audit = await sh(["audit", "--verify", "--repo", "approvals"]);

    say(`\n${b("Done.")} Look around: cd ${repo} && git log --graph --oneline --all`);
    return audit.code === 0 && denied.code === EXIT.denied ? EXIT.ok : EXIT.failure;
  }
}
