import { parseArgs, type ParseArgsConfig } from "node:util";
import { EXIT, InterlockError } from "../errors.ts";
import { maskText } from "../masking/mask.ts";
import { auditCommand } from "./audit.ts";
import { demoCommand } from "./demo.ts";
import { doctorCommand } from "./doctor.ts";
import { evaluateCommand } from "./evaluate.ts";
import { processIO, type CliIO } from "./io.ts";
import {
  executeCommand,
  gateCommand,
  initCommand,
  mergeCommand,
  proposeChangeCommand,
  requestCommand,
  reviewCommand,
} from "./lifecycle.ts";
import { policyCommand } from "./policy.ts";

export const USAGE = `interlock: every privileged action asks first.

Usage: interlock <command> [options]

Commands:
  demo                            the whole story end to end in a temporary repository, narrated
  init [dir]                      create a local approvals repository (demo people, keys, policies)
  request <request|-> --as <who>  evaluate, mask, seal, and open a proposal (branch interlock/<id>)
                                  signed with <who>'s key (an agent or a person; --key <file>)
  approve <id> --as <who>         record a signed approval (local forge; --key <file>)
  reject <id> --as <who>          record a signed rejection (local forge; --key <file>)
  gate <id>                       which approval rules hold, which approvals counted and why
  merge <id>                      merge if the gate holds
  propose-change <file…>          propose a change to config, CODEOWNERS or policies (admins approve)
  execute [--retry <id>]          run every merged, not yet executed request exactly once
  audit [--verify] [--csv]        the trail from Git history; --verify re-checks all the evidence
  doctor --github <owner/repo>    check how a GitHub approvals repository is protected (exit 4 if unsafe)
  evaluate <request|->            decide and mask a request without writing anything
  evaluate --batch <file.jsonl|-> one request per line, one JSON result per line
  policy build                    compile policies/ to Wasm with opa (policies/dist/)
  policy test                     run the Rego unit tests with opa test

Options (every command):
  --json         machine-readable output on stdout
  --repo <dir>   the approvals repository (default: the current directory); its policies/
                 are used, or Interlock's defaults when it has none
  -h, --help     this help

Private keys are read from the Interlock home ($INTERLOCK_HOME, else ~/.config/interlock),
never from the approvals repository.

Exit codes: 0 ok, 2 invalid input or usage, 3 denied by policy, 4 gate not satisfied, 1 other.
`;

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  json: { type: "boolean", default: false },
  repo: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Runs one command line; returns the exit code. Never calls process.exit. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const json = argv.includes("--json");
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === "-h" || command === "--help" || command === "help") {
      io.stdout.write(USAGE);
      return command === undefined ? EXIT.invalidInput : EXIT.ok;
    }
    // `<command> --help` only ever prints help: it never runs the command (init, request,
    // approve, merge, execute … must not act because help was asked for).
    const end = rest.indexOf("--");
    if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === "-h" || a === "--help")) {
      io.stdout.write(USAGE);
      return EXIT.ok;
    }
    switch (command) {
      case "evaluate":
        return await evaluateCommand(rest, io);
      case "policy":
        return await policyCommand(rest, io);
      case "init":
        return await initCommand(rest, io);
      case "request":
        return await requestCommand(rest, io);
      case "approve":
        return await reviewCommand("approved", rest, io);
      case "reject":
        return await reviewCommand("changes_requested", rest, io);
      case "gate":
        return await gateCommand(rest, io);
      case "merge":
        return await mergeCommand(rest, io);
      case "propose-change":
        return await proposeChangeCommand(rest, io);
      case "execute":
        return await executeCommand(rest, io);
      case "audit":
        return await auditCommand(rest, io);
      case "demo":
        return await demoCommand(rest, io);
      case "doctor":
        return await doctorCommand(rest, io);
      default:
        throw new InterlockError("usage", `unknown command '${command}'`, {
          hint: "Run 'interlock --help' for the list of commands.",
        });
    }
  } catch (err) {
    return reportError(err, io, json);
  }
}

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

/** parseArgs with the common options, strict, positionals allowed. */
export function parseCommandArgs<const T extends NonNullable<ParseArgsConfig["options"]>>(
  args: readonly string[],
  options: T,
) {
  const all = { ...COMMON_OPTIONS, ...options } as typeof COMMON_OPTIONS & T;
  return parseArgs({ args: [...args], options: all, allowPositionals: true, strict: true });
}
