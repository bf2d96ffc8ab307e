import { InterlockError } from "../errors.ts";
import { maskText } from "../masking/mask.ts";
import type { CliIO } from "./io.ts";

// Loaded by main only when a command fails, so that --help and a command that succeeds never
// load the detectors for it.

/** Prints a failure: a masked, human message on stderr; with --json also a JSON object on stdout. */
export function reportError(err: unknown, io: CliIO, json: boolean): number {
  const e =
    err instanceof InterlockError
      ? err
      : isParseArgsError(err)
        ? new InterlockError("usage", (err as Error).message, { hint: "Run 'interlock --help'." })
        : new InterlockError("internal", (err as Error)?.message ?? String(err));
  const message = maskText(e.message);
  io.stderr.write(`interlock: ${message}\n${e.hint ? `  next: ${e.hint}\n` : ""}`);
  if (json) io.stdout.write(JSON.stringify({ error: maskedErrorJson(e) }) + "\n");
  return e.exitCode;
}

/** An error as JSON, with every free-text part passed through the detectors. */
export function maskedErrorJson(e: InterlockError): ReturnType<InterlockError["toJSON"]> {
  const body = e.toJSON();
  return {
    ...body,
    message: maskText(body.message),
    problems: body.problems.map((p) => ({
      ...p,
      ...(p.field === undefined ? {} : { field: maskText(p.field) }),
      message: maskText(p.message),
    })),
  };
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}
