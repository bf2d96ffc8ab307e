import { Readable } from "node:stream";
import type { CliIO } from "../src/cli/io.ts";
import { main } from "../src/cli/main.ts";

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `interlock <argv>` in-process with captured output. */
export async function run(
  argv: string[],
  opts: { cwd?: string; stdin?: string; env?: NodeJS.ProcessEnv; now?: Date } = {},
): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([opts.stdin ?? ""]),
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? process.cwd(),
    now: () => opts.now ?? new Date("2026-11-24T10:00:00.000Z"),
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
