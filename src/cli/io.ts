import type { Readable } from "node:stream";

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
