import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT, InterlockError } from "../errors.ts";
import { commandHelp, nearest, parseCommand, usageLine, wantsHelp } from "./command.ts";
import { COMMANDS, findCommand } from "./commands.ts";
import { processIO, type CliIO } from "./io.ts";

/** `interlock --help`, generated from the command table. */
export function usage(): string {
  const rows = COMMANDS.map((c) => [`${c.name}${c.args ? ` ${c.args}` : ""}`, c.summary] as const);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return `interlock: every privileged action asks first.

Usage: interlock <command> [options]
       interlock <command> --help    that command's usage (never runs it)

Commands:
${rows.map(([l, s]) => `  ${l.padEnd(width)}${s}`).join("\n")}

Options (every command):
  --json         machine-readable output on stdout
  --repo <dir>   the approvals repository (default: the repository around the current
                 directory); its policies/ are used, or Interlock's defaults when it has none
  -h, --help     help
  --version      the version of interlock

Private keys are read from the Interlock home ($INTERLOCK_HOME, else ~/.config/interlock),
never from the approvals repository.

Exit codes: 0 ok, 2 invalid input or usage, 3 denied by policy, 4 gate not satisfied, 1 other.
`;
}

/** The package's version, from its package.json. */
export async function version(): Promise<string> {
  const { packageRoot } = await import("../policy/toolchain.ts");
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** Runs one command line; returns the exit code. Never calls process.exit. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const json = argv.includes("--json");
  const [command, ...rest] = argv;
  const spec = command === undefined ? undefined : findCommand(command);
  try {
    if (command === undefined || command === "-h" || command === "--help") {
      io.stdout.write(usage());
      return command === undefined ? EXIT.invalidInput : EXIT.ok;
    }
    if (command === "help") {
      const of = rest[0] === undefined ? undefined : findCommand(rest[0]);
      io.stdout.write(of ? commandHelp(of) : usage());
      return EXIT.ok;
    }
    if (command === "--version" || command === "-V" || command === "version") {
      io.stdout.write(`${await version()}\n`);
      return EXIT.ok;
    }
    if (spec === undefined) {
      const near = nearest(
        command,
        COMMANDS.map((c) => c.name),
      );
      throw new InterlockError("usage", `unknown command '${command}'`, {
        hint: near
          ? `Did you mean 'interlock ${near}'?`
          : "Run 'interlock --help' for the list of commands.",
      });
    }
    // Help is decided here, from the table, before anything of the command is loaded.
    if (wantsHelp(rest)) {
      io.stdout.write(commandHelp(spec));
      return EXIT.ok;
    }
    const input = parseCommand(spec, rest);
    const run = await spec.load();
    try {
      return await run(input, io);
    } finally {
      // Never changes the command's outcome; loaded only for the commands that sweep.
      if (spec.sweep) await (await import("./notify.ts")).sweepAfterCommand(input, io);
    }
  } catch (err) {
    // The detectors load only now: a command that succeeds (and --help) never pays for them.
    const { reportError } = await import("./report.ts");
    const code = reportError(err, io, json);
    if (spec && err instanceof InterlockError && err.code === "usage") {
      io.stderr.write(`usage: ${usageLine(spec)}\n`);
    }
    return code;
  }
}
