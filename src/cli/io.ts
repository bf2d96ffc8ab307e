import { readFileSync, statSync } from "node:fs";
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
    // Opened at first use: a pipe or a terminal on stderr loads Node's sockets (node:net), and
    // most runs never write to stderr.
    get stderr() {
      return process.stderr;
    },
    // Only a command that reads stdin opens it (--help never does).
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
    now: () => new Date(),
  };
}

/** Progress on a terminal; silent when piped or in --json mode. */
export function progress(io: CliIO, json: boolean): (msg: string) => void {
  return (msg) => {
    // \r and erase-line first: a count line (see counter) may be on screen.
    if (!json && io.stderr.isTTY) io.stderr.write(`\r\x1b[K\x1b[2m${msg}\x1b[0m\n`);
  };
}

/**
 * A count and a total on one terminal line on stderr ("audit: 1200/5000"), rewritten in place
 * at most every 100 ms (and at the last item); `done()` erases it. Silent when stderr is not a
 * terminal or in --json (or --csv) mode, so nothing reaches a pipe or a script.
 */
export function counter(
  io: CliIO,
  quiet: boolean,
  label: string,
  clock: () => number = Date.now,
): { readonly tick: (done: number, total: number) => void; readonly done: () => void } {
  if (quiet || !io.stderr.isTTY) return { tick: () => {}, done: () => {} };
  // Erased before anything else is printed, so it never runs into another line.
  let last = -Infinity;
  let shown = false;
  return {
    tick: (done, total) => {
      const t = clock();
      if (done < total && t - last < 100) return;
      last = t;
      shown = true;
      io.stderr.write(`\r\x1b[K${label}: ${done}/${total}`);
    },
    done: () => {
      if (shown) io.stderr.write("\r\x1b[K");
      shown = false;
    },
  };
}

/**
 * A request's text from a file (relative to the working directory) or, for "-", stdin. With
 * `maxBytes`, a larger input is refused before it is read whole (a file by its size, stdin as
 * soon as it passes the limit), with the same error parseRequest gives.
 */
export async function readRequestInput(
  target: string,
  io: CliIO,
  maxBytes?: number,
): Promise<string> {
  const source = target === "-" ? "stdin" : target;
  if (target === "-") {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of io.stdin) {
      const buf = Buffer.from(chunk as Buffer);
      size += buf.length;
      if (maxBytes !== undefined && size > maxBytes) {
        io.stdin.destroy();
        throw await tooLarge(source, `is more than ${maxBytes} bytes`, maxBytes);
      }
      chunks.push(buf);
    }
    return Buffer.concat(chunks).toString("utf8");
  }
  const path = resolve(io.cwd, target);
  try {
    if (maxBytes !== undefined) {
      const size = statSync(path).size;
      if (size > maxBytes) throw await tooLarge(source, `is ${size} bytes`, maxBytes);
    }
    return readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof InterlockError) throw err;
    throw new InterlockError(
      "usage",
      `cannot read ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { hint: "Give the path of a request file (YAML or JSON), or - to read it from stdin." },
    );
  }
}

/** parseRequest's error for a request over the limit (the parser loads only when needed). */
async function tooLarge(source: string, size: string, maxBytes: number): Promise<InterlockError> {
  return (await import("../request/parse.ts")).tooLarge(source, size, maxBytes);
}
