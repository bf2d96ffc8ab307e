import { InterlockError } from "../errors.ts";
import { stringFlag, type CommandInput } from "./command.ts";
import type { CliIO } from "./io.ts";
import { version } from "./main.ts";
import type { ApprovalBackend } from "../sdk/approval.ts";

const REPO = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/;

async function localOf(input: CommandInput, io: CliIO, as: string): Promise<ApprovalBackend> {
  const repo = stringFlag(input, "repo") ?? ".";
  const key = stringFlag(input, "key");
  const { localBackend } = await import("../sdk/local.ts");
  return localBackend({ repo, as, ...(key ? { keyFile: key } : {}), env: io.env, cwd: io.cwd });
}

/** The SDK's GitHub backend: the request workflow files, the token's account is the requester. */
async function githubOf(
  input: CommandInput,
  io: CliIO,
  as: string,
  github: string,
): Promise<ApprovalBackend> {
  const m = REPO.exec(github);
  if (!m) {
    throw new InterlockError("usage", `--github ${github}: not owner/repo`, {
      hint: "Name the approvals repository as owner/repo, e.g. --github acme/approvals.",
    });
  }
  const bot = stringFlag(input, "bot");
  if (bot === undefined) {
    throw new InterlockError("usage", "mcp --github needs --bot <login>: the Interlock App's bot", {
      hint: "interlock mcp --as agent:etl-bot --github acme/approvals --bot interlock-approvals[bot]",
    });
  }
  const token = io.env.INTERLOCK_GITHUB_TOKEN || io.env.GITHUB_TOKEN;
  if (!token) {
    throw new InterlockError("usage", "mcp --github needs a GitHub token", {
      hint: "Set INTERLOCK_GITHUB_TOKEN (or GITHUB_TOKEN) to the requester's token (Contents: write on the repository).",
    });
  }
  const { githubBackend } = await import("../sdk/github.ts");
  return githubBackend({
    github: {
      owner: m[1]!,
      repo: m[2]!,
      token,
      botLogin: bot,
      apiUrl: (io.env.GITHUB_API_URL || "https://api.github.com").replace(/\/+$/, ""),
    },
    as,
  });
}

/**
 * `interlock mcp --as <agent>`: Interlock's tools for an agent, as an MCP server on stdin and
 * stdout. Stdout carries the protocol only; nothing else is written there. Returns when the
 * client closes the connection.
 */
export async function mcpCommand(input: CommandInput, io: CliIO): Promise<number> {
  if (input.positionals.length > 0) {
    throw new InterlockError("usage", `unexpected argument '${input.positionals[0]}'`);
  }
  const as = stringFlag(input, "as");
  if (as === undefined) {
    throw new InterlockError(
      "usage",
      "mcp needs --as <agent>: the principal whose key signs the requests",
      {
        hint: "interlock mcp --as agent:etl-bot --repo <approvals repository>",
      },
    );
  }
  const github = stringFlag(input, "github");
  const backend =
    github === undefined ? await localOf(input, io, as) : await githubOf(input, io, as, github);
  const { createMcpServer } = await import("../mcp/server.ts");
  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
  const server = await createMcpServer({ backend, version: await version(), requester: as });
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  await server.connect(transport);
  // The client hanging up (stdin ends) ends the server.
  process.stdin.once("end", () => void transport.close());
  await closed;
  return 0;
}
