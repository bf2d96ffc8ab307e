import { existsSync } from "node:fs";
import { join } from "node:path";
import { decideAndMask, type Evaluation } from "../decide.ts";
import { EXIT, InterlockError } from "../errors.ts";
import { renderCard } from "../proposal/card.ts";
import { DEFAULT_MAX_REQUEST_BYTES, parseRequest } from "../request/parse.ts";
import { CONFIG_PATH } from "../forge/refs.ts";
import { loadRepoContext } from "./context.ts";
import { findRepoDir, repoHomeOf } from "./repository.ts";
import { readRequestInput, type CliIO } from "./io.ts";
import { maskedErrorJson } from "./report.ts";
import { booleanFlag, stringFlag, type CommandInput } from "./command.ts";

/** `interlock evaluate <request|->` and `interlock evaluate --batch <file.jsonl|->`. */
export async function evaluateCommand(input: CommandInput, io: CliIO): Promise<number> {
  const { positionals } = input;
  const values = {
    batch: booleanFlag(input, "batch"),
    json: booleanFlag(input, "json"),
    repo: stringFlag(input, "repo"),
  };
  if (positionals.length !== 1) {
    throw new InterlockError("usage", "evaluate takes exactly one request file (or - for stdin)", {
      hint: "interlock evaluate request.yaml",
    });
  }
  const target = positionals[0]!;
  const repoDir = await findRepoDir(values.repo, io.cwd);
  const isRepo = existsSync(join(repoDir, ".git"));
  const home = isRepo ? await repoHomeOf(repoDir, io.env) : undefined;
  const ctx = await loadRepoContext(repoDir, io.cwd, home);
  // In an approvals repository the policy sees every name of the requester and its sponsor.
  // (Its configuration and the identity directory load only then.)
  const identities = existsSync(join(repoDir, CONFIG_PATH))
    ? await identitiesOf(repoDir)
    : undefined;
  const decide = (text: string, source: string): Evaluation =>
    decideAndMask(parseRequest(text, { source }), {
      engine: ctx.engine,
      now: io.now(),
      repo: ctx.repoName,
      hmacKey: ctx.hmacKey,
      ...(identities ? { identities } : {}),
    });

  if (values.batch) return batch(target, io, decide);

  const text = await readRequestInput(target, io, DEFAULT_MAX_REQUEST_BYTES);
  const ev = decide(text, target === "-" ? "stdin" : target);
  if (values.json) {
    io.stdout.write(JSON.stringify(toJson(ev), null, 2) + "\n");
  } else {
    io.stdout.write(renderCard(ev, { color: Boolean(io.stdout.isTTY) }));
    if (ctx.ephemeralKey && ev.masks.some((m) => m.strategy === "hash")) {
      io.stdout.write(
        "\nnote: no repository masking key (mask.key in your Interlock home), so hash tokens are only stable within this run.\n",
      );
    }
  }
  return ev.decision.allow ? EXIT.ok : EXIT.denied;
}

export function toJson(ev: Evaluation): Record<string, unknown> {
  return { decision: ev.decision, request: ev.request, findings: ev.findings, masks: ev.masks };
}

async function batch(
  target: string,
  io: CliIO,
  decide: (text: string, source: string) => Evaluation,
): Promise<number> {
  // Only --batch reads lines: node:readline and node:stream load here, not with the command.
  const [{ createInterface }, { Readable }] = await Promise.all([
    import("node:readline"),
    import("node:stream"),
  ]);
  const input = target === "-" ? io.stdin : Readable.from([await readRequestInput(target, io)]);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  const counts = { allowed: 0, denied: 0, invalid: 0 };
  for await (const line of lines) {
    n++;
    if (line.trim() === "") continue;
    try {
      const ev = decide(line, `line ${n}`);
      counts[ev.decision.allow ? "allowed" : "denied"]++;
      io.stdout.write(JSON.stringify({ line: n, ...toJson(ev) }) + "\n");
    } catch (err) {
      if (!(err instanceof InterlockError)) throw err;
      counts.invalid++;
      io.stdout.write(JSON.stringify({ line: n, error: maskedErrorJson(err) }) + "\n");
    }
  }
  if (io.stderr.isTTY) {
    io.stderr.write(
      `${counts.allowed + counts.denied + counts.invalid} requests: ${counts.allowed} allowed, ${counts.denied} denied, ${counts.invalid} invalid\n`,
    );
  }
  return counts.invalid > 0 ? EXIT.invalidInput : EXIT.ok;
}

async function identitiesOf(repoDir: string) {
  const [{ loadConfig }, { directoryOf }] = await Promise.all([
    import("../config/config.ts"),
    import("../identity/directory.ts"),
  ]);
  return directoryOf(loadConfig(repoDir));
}
