import { InterlockError } from "../errors.ts";
import { stringFlag, type CommandInput } from "./command.ts";
import type { CliIO } from "./io.ts";
import { version } from "./main.ts";

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
  const repo = stringFlag(input, "repo") ?? ".";
  const key = stringFlag(input, "key");
  const { localBackend } = await import("../sdk/local.ts");
  const { createMcpServer } = await import("../mcp/server.ts");
  const { StdioServerTransport } = await import("@modelcontextprotocol/sdk/server/stdio.js");
  const backend = await localBackend({
    repo,
    as,
    ...(key ? { keyFile: key } : {}),
    env: io.env,
    cwd: io.cwd,
  });
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
