import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { InterlockError } from "../errors.ts";

/** Everything a command touches of the outside world, passed in so tests run commands in-process. */
export interface CliIO {
  readonly stdout: { write(s: string): unknown; isTTY?: boolean };
  readonly stderr: { write(s: string): unknown; isTTY?: boolean };
  readonly stdin: Readable;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly now: () => Date;
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  };
}

/** Progress on a terminal; silent when piped or in --json mode. */
export function progress(io: CliIO, json: boolean): (msg: string) => void {
  return (msg) => {
    if (!json && io.stderr.isTTY) io.stderr.write(`\x1b[2m${msg}\x1b[0m\n`);
  };
}

/** A request's text from a file (relative to the working directory) or, for "-", stdin. */
export async function readRequestInput(target: string, io: CliIO): Promise<string> {
  if (target === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString("utf8");
  }
  try {
    return readFileSync(resolve(io.cwd, target), "utf8");
  } catch (err) {
    throw new InterlockError(
      "usage",
      `cannot read ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { hint: "Give the path of a request file (YAML or JSON), or - to read it from stdin." },
    );
  }
}
