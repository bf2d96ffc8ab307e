import type { CommandSpec, FlagSpec } from "./command.ts";

const AS: FlagSpec = { type: "string", value: "<who>", help: "who you are (a configured id)" };
const KEY: FlagSpec = {
  type: "string",
  value: "<file>",
  help: "your private SSH signing key (default: from your Interlock home)",
};

/**
 * Every command of `interlock`, in the order `interlock --help` lists them. Adding a command is
 * one entry here; its implementation is imported only when it runs.
 */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "demo",
    args: "",
    summary: "the whole story end to end in a temporary repository, narrated",
    flags: {},
    load: async () => (await import("./demo.ts")).demoCommand,
  },
  {
    name: "init",
    args: "[dir]",
    summary: "create a local approvals repository (demo people, keys, policies)",
    description:
      "Private keys go to your Interlock home ($INTERLOCK_HOME, else ~/.config/interlock).",
    flags: {},
    load: async () => (await import("./lifecycle.ts")).initCommand,
  },
  {
    name: "request",
    args: "<request.yaml|->",
    summary: "evaluate, mask, seal, and open a proposal (branch interlock/<id>)",
    description:
      "The proposal's commit is signed with the key of whoever files it (--as). Exit 0 filed,\n" +
      "3 denied by policy (recorded as evidence), 2 invalid input.",
    flags: { as: AS, key: KEY },
    sweep: true,
    load: async () => (await import("./lifecycle.ts")).requestCommand,
  },
  {
    name: "list",
    args: "",
    summary: "open requests and what each one waits for (pending, rejected, approved)",
    description:
      "One line per request: id, state, action, risk, requester, age, expiry and what is missing.\n" +
      "Expired, withdrawn, merged, executed and denied requests are closed: --all or --state shows them.",
    flags: {
      for: {
        type: "string",
        value: "<who>",
        help: "only requests that wait for <who>'s review (an approval of theirs would count)",
      },
      all: {
        type: "boolean",
        help: "also closed requests: expired, withdrawn, merged, executed, denied",
      },
      state: {
        type: "string",
        value: "<state>",
        help: "only one state: pending, approved, rejected, expired, withdrawn, merged, executed, denied, invalid",
      },
    },
    sweep: true,
    load: async () => (await import("./review-commands.ts")).listCommand,
  },
  {
    name: "show",
    args: "<id>",
    summary: "a request's masked card, its decision, the gate verdict and its reviews",
    flags: {},
    sweep: true,
    load: async () => (await import("./review-commands.ts")).showCommand,
  },
  {
    name: "approve",
    args: "<id>",
    summary: "record a signed approval (local forge; also of a governance change)",
    flags: { as: AS, key: KEY, note: { type: "string", value: "<text>", help: "a note" } },
    sweep: true,
    load: async () => (await import("./lifecycle.ts")).approveCommand,
  },
  {
    name: "reject",
    args: "<id>",
    summary: "record a signed rejection (local forge)",
    flags: { as: AS, key: KEY, note: { type: "string", value: "<text>", help: "a note" } },
    sweep: true,
    load: async () => (await import("./lifecycle.ts")).rejectCommand,
  },
  {
    name: "withdraw",
    args: "<id>",
    summary: "withdraw your own request (signed by the requester); it can never run",
    flags: {
      as: { ...AS, help: "the requester (an agent or a person), who signs the withdrawal" },
      key: KEY,
      reason: { type: "string", value: "<text>", help: "why (recorded)" },
    },
    sweep: true,
    load: async () => (await import("./review-commands.ts")).withdrawCommand,
  },
  {
    name: "gate",
    args: "<id>",
    summary: "which approval rules hold, which approvals counted and why",
    description: "Exit 0 when the gate holds, 4 when it does not.",
    flags: {},
    sweep: true,
    load: async () => (await import("./lifecycle.ts")).gateCommand,
  },
  {
    name: "merge",
    args: "<id>",
    summary: "merge if the gate holds (a request, or a governance change its admins approved)",
    flags: {},
    sweep: true,
    load: async () => (await import("./lifecycle.ts")).mergeCommand,
  },
  {
    name: "propose-change",
    args: "<file…>",
    summary: "propose a change to config, CODEOWNERS or policies (admins approve)",
    description:
      "Proposes the working tree's version of the given trust inputs (.interlock/, policies/,\n" +
      "CODEOWNERS) as a governance change on interlock/governance/<id>. A majority of the admins\n" +
      "named in the current configuration approve it ('interlock approve <id> --as <admin>'), and\n" +
      "'interlock merge <id>' lands it. A plain commit to these files is never trusted.",
    flags: {
      summary: { type: "string", value: "<text>", help: "one line saying what the change is for" },
    },
    load: async () => (await import("./lifecycle.ts")).proposeChangeCommand,
  },
  {
    name: "execute",
    args: "",
    summary: "run every merged, not yet executed request exactly once",
    flags: {
      retry: {
        type: "string",
        value: "<id>",
        multiple: true,
        help: "run a claimed request again after a crash (a person decides)",
      },
    },
    sweep: true,
    load: async () => (await import("./lifecycle.ts")).executeCommand,
  },
  {
    name: "notify",
    args: "",
    summary: "deliver pending notifications (Slack, Teams, webhooks) now, or from cron",
    description:
      "Every command on a local approvals repository also sweeps after its own work, so this is\n" +
      "for what happens without a command: expiry, and retries after a failed delivery.\n" +
      "Channels and routes: notifications: in .interlock/config.yaml (committed on the default\n" +
      "branch); secrets from INTERLOCK_* environment variables. Deliveries are recorded in the\n" +
      "Interlock home and shown by 'interlock show <id>'. Exit 1 when a delivery failed this time.",
    flags: {},
    load: async () => (await import("./notify.ts")).notifyCommand,
  },
  {
    name: "mcp",
    args: "",
    summary: "serve an agent over MCP (stdio): request approval, check, wait, list, withdraw",
    description:
      "An MCP server on stdin/stdout for an agent's client. Tools: request_approval,\n" +
      "check_status, wait_for_decision (bounded; call again to keep waiting), list_my_requests,\n" +
      "withdraw_request. Requests are filed and withdrawn as --as, signed with its key from the\n" +
      "Interlock home (or --key). Every output is masked.\n\n" +
      "With --github owner/repo: requests go to that approvals repository's request workflow\n" +
      "(repository_dispatch), as the account of INTERLOCK_GITHUB_TOKEN (else GITHUB_TOKEN), which\n" +
      "needs Contents: write; --bot names the Interlock App's bot account (<app-slug>[bot]), whose\n" +
      "pull requests alone count. API: GITHUB_API_URL (default https://api.github.com).",
    forms: ["mcp --as <who> --github <owner/repo> --bot <login>"],
    flags: {
      as: { ...AS, help: "the agent (or person) the requests are filed as, who signs them" },
      key: KEY,
      github: {
        type: "string",
        value: "<owner/repo>",
        help: "an approvals repository on GitHub instead of a local one",
      },
      bot: {
        type: "string",
        value: "<login>",
        help: "with --github: the Interlock App's bot account",
      },
    },
    load: async () => (await import("./mcp.ts")).mcpCommand,
  },
  {
    name: "audit",
    args: "",
    summary: "the trail from Git history; --verify re-checks all the evidence",
    description: "--json prints one JSON object per line (JSON Lines).",
    forms: ["audit --verify [--checkpoint] [--full] [--csv] [--json] [--repo <dir>]"],
    flags: {
      verify: { type: "boolean", help: "re-check every merged request's evidence" },
      checkpoint: {
        type: "boolean",
        help: "with --verify: record a checkpoint of the verified history, signed with the auditor's key (in your Interlock home)",
      },
      full: {
        type: "boolean",
        help: "with --verify: verify the whole history, not only what is new since the checkpoint",
      },
      csv: { type: "boolean", help: "CSV output" },
    },
    load: async () => (await import("./audit.ts")).auditCommand,
  },
  {
    name: "doctor",
    args: "",
    summary: "check how a GitHub approvals repository is protected (exit 4 if unsafe)",
    description:
      "Reads how an approvals repository is protected on GitHub (branch protection and rulesets of\n" +
      "the default branch, Actions workflow permissions, CODEOWNERS errors, workflow triggers) and\n" +
      "prints each finding with its severity and how to fix it. Read-only: GET requests only.\n\n" +
      "Token: INTERLOCK_GITHUB_TOKEN, else GITHUB_TOKEN (a repository admin's; fine-grained:\n" +
      "Administration: read, Contents: read). API: GITHUB_API_URL (default https://api.github.com).\n\n" +
      "Exit codes: 0 nothing unsafe (warnings allowed), 4 a finding leaves a way around the gate\n" +
      "(or a setting could not be read), 2 usage, 1 the API could not be reached.",
    flags: { github: { type: "string", value: "<owner/repo>", help: "the repository to check" } },
    load: async () => (await import("./doctor.ts")).doctorCommand,
  },
  {
    name: "evaluate",
    args: "<request|->",
    summary: "decide and mask a request without writing anything",
    forms: ["evaluate --batch <requests.jsonl|-> [--repo <dir>]"],
    description:
      "Exit 0 allowed, 3 denied, 2 invalid input.\n" +
      "With --batch: one JSON result per input line; exit 2 if any line was invalid, else 0.",
    flags: { batch: { type: "boolean", help: "one request per line, one JSON result per line" } },
    load: async () => (await import("./evaluate.ts")).evaluateCommand,
  },
  {
    name: "policy",
    args: "<build|test>",
    summary: "build: compile policies/ to Wasm with opa; test: run the Rego unit tests",
    description:
      "build: compiles <repo>/policies with 'opa build -t wasm' into <repo>/policies/dist.\n" +
      "test:  runs the Rego unit tests (*_test.rego) with 'opa test'.",
    flags: {},
    load: async () => (await import("./policy.ts")).policyCommand,
  },
];

/** The command of that name, if any. */
export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}
