import { parseArgs } from "node:util";
import { InterlockError } from "../errors.ts";
import { isRequestId } from "../forge/refs.ts";
import type { CliIO } from "./io.ts";

/**
 * A command of the CLI, declared once: its name, positional arguments, flags and help. The
 * table (commands.ts) is the only place a command is described; `--help`, usage lines, flag
 * checking and suggestions are all generated from it, and the implementation is imported only
 * when the command really runs.
 */
export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly multiple?: boolean;
  /** The value's placeholder in usage ("<dir>"). */
  readonly value?: string;
  readonly help: string;
}

/** What a command's implementation receives: flags checked against its declaration. */
export interface CommandInput {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
}

export type CommandRun = (input: CommandInput, io: CliIO) => Promise<number>;

export interface CommandSpec {
  readonly name: string;
  /** Positional arguments as shown in usage, e.g. "<id>" or "[dir]". */
  readonly args: string;
  /** One line for the command list. */
  readonly summary: string;
  /** More about the command, printed by `interlock <command> --help`. */
  readonly description?: string;
  /** Other usage lines (alternative forms), without "interlock ". */
  readonly forms?: readonly string[];
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /**
   * After it runs, deliver pending notifications of its repository (local forge: nothing runs
   * in the background, so every command that works on a repository sweeps).
   */
  readonly sweep?: boolean;
  /** Loads the implementation (a lazy import: nothing is loaded for --help). */
  readonly load: () => Promise<CommandRun>;
}

/** Options every command accepts. */
export const COMMON_FLAGS: Readonly<Record<string, FlagSpec>> = {
  json: { type: "boolean", help: "machine-readable output on stdout" },
  repo: {
    type: "string",
    value: "<dir>",
    help: "the approvals repository (default: the repository around the current directory)",
  },
  help: { type: "boolean", short: "h", help: "this command's usage; never runs it" },
};

/** Whether an argument list asks for help: -h or --help anywhere before a "--". */
export function wantsHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "-h" || a === "--help" || a.startsWith("--help=")) return true;
  }
  return false;
}

/** "interlock gate <id> [--json] [--repo <dir>]": the command's usage line. */
export function usageLine(spec: CommandSpec): string {
  const flags = Object.entries(spec.flags).map(([name, f]) =>
    f.type === "string" ? `[--${name} ${f.value ?? "<value>"}]` : `[--${name}]`,
  );
  return ["interlock", spec.name, spec.args, ...flags, "[--json] [--repo <dir>]"]
    .filter(Boolean)
    .join(" ");
}

/** `interlock <command> --help`. */
export function commandHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${usageLine(spec)}`];
  for (const form of spec.forms ?? []) lines.push(`       interlock ${form}`);
  lines.push("", spec.summary + ".");
  if (spec.description) lines.push("", spec.description.trimEnd());
  lines.push("", "Options:");
  const all = { ...spec.flags, ...COMMON_FLAGS };
  const rows = Object.entries(all).map(([name, f]) => {
    const left = `${f.short ? `-${f.short}, ` : "    "}--${name}${f.type === "string" ? ` ${f.value ?? "<value>"}` : ""}`;
    return [left, f.help + (f.multiple ? " (repeatable)" : "")] as const;
  });
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  for (const [l, h] of rows) lines.push(`  ${l.padEnd(width)}${h}`);
  return lines.join("\n") + "\n";
}

/**
 * Parses a command's arguments strictly against its declaration. An unknown flag is a usage
 * error with the nearest declared flag as a suggestion.
 */
export function parseCommand(spec: CommandSpec, args: readonly string[]): CommandInput {
  const all = { ...spec.flags, ...COMMON_FLAGS };
  const { tokens } = parseArgs({
    args: [...args],
    options: {},
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind !== "option" || t.name in all) continue;
    const near = nearest(t.name, Object.keys(all));
    throw new InterlockError("usage", `unknown option '${t.rawName}' for interlock ${spec.name}`, {
      hint: near ? `Did you mean --${near}?` : `Run 'interlock ${spec.name} --help'.`,
    });
  }
  const options = Object.fromEntries(
    Object.entries(all).map(([name, f]) => [
      name,
      {
        type: f.type,
        ...(f.short ? { short: f.short } : {}),
        ...(f.multiple ? { multiple: true } : {}),
      },
    ]),
  );
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      strict: true,
      allowPositionals: true,
    });
    return { values: values as CommandInput["values"], positionals };
  } catch (err) {
    throw new InterlockError("usage", (err as Error).message.split("\n")[0]!, {
      hint: `Run 'interlock ${spec.name} --help'.`,
    });
  }
}

/** A string flag's value (the last one given). */
export function stringFlag(input: CommandInput, name: string): string | undefined {
  const v = input.values[name];
  if (Array.isArray(v)) return v[v.length - 1];
  return typeof v === "string" ? v : undefined;
}

/** A repeatable string flag's values. */
export function stringsFlag(input: CommandInput, name: string): string[] {
  const v = input.values[name];
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

export function booleanFlag(input: CommandInput, name: string): boolean {
  return input.values[name] === true;
}

/** The closest name within edit distance 2 (or a prefix), if any. */
export function nearest(word: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = name.startsWith(word) && word.length >= 2 ? 1 : distance(word, name);
    if (d <= 2 && (best === undefined || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The one request id a command takes. */
export function requireId(positionals: readonly string[]): string {
  const id = positionals[0];
  if (id === undefined) throw new InterlockError("usage", "missing the request id");
  if (positionals.length > 1)
    throw new InterlockError("usage", `unexpected argument '${positionals[1]}'`);
  if (!isRequestId(id)) {
    throw new InterlockError("usage", `'${id}' is not a request id`, {
      hint: "Request ids are 26-character ULIDs, as printed by 'interlock request'.",
    });
  }
  return id;
}

/** " --repo <dir>" when the command was given one, for "Next:" hints that work as printed. */
export function repoHint(input: CommandInput): string {
  const repo = stringFlag(input, "repo");
  return repo === undefined ? "" : ` --repo ${shellWord(repo)}`;
}

/** A word as a POSIX shell reads it back (quoted when it must be). */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
