import { terminalText } from "../presentation/escape.ts";
import {
  auditTrail,
  csvRow,
  CSV_COLUMNS,
  onFirstParentHistory,
  withdrawalsAt,
  type AuditRecord,
  type Checkpointed,
} from "../audit/audit.ts";
import { EXIT, InterlockError } from "../errors.ts";
import { counter, type CliIO } from "./io.ts";
import { openLocalRepo } from "./local.ts";
import { findRepoDir } from "./repository.ts";
import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { loadConfig } from "../config/config.ts";
import { Git } from "../forge/local/git.ts";
import { booleanFlag, stringFlag, type CommandInput } from "./command.ts";
import { interlockHome, repoHome } from "../settings/home.ts";
import { pinnedRoot, readPin } from "../trust/root.ts";
import { loadCheckpoint, recordCheckpoint, type CheckpointBody } from "../audit/checkpoint.ts";

/**
 * `interlock audit [--verify] [--csv] [--json]`: the trail from Git history. --json prints one
 * JSON object per line (JSON Lines), so a history of any length streams in constant memory.
 */
export async function auditCommand(input: CommandInput, io: CliIO): Promise<number> {
  const values = {
    verify: booleanFlag(input, "verify"),
    csv: booleanFlag(input, "csv"),
    checkpoint: booleanFlag(input, "checkpoint"),
    full: booleanFlag(input, "full"),
    json: booleanFlag(input, "json"),
    repo: stringFlag(input, "repo"),
  };
  if ((values.checkpoint || values.full) && !values.verify)
    throw new InterlockError("usage", "--checkpoint and --full go with --verify");
  if (input.positionals.length > 0)
    throw new InterlockError("usage", `unexpected argument '${input.positionals[0]}'`);
  if (values.csv && values.json)
    throw new InterlockError("usage", "choose one of --csv and --json");
  const home = interlockHome(io.env);
  // A checkpoint that still holds names the trust root: no walk of the whole history to find it.
  const held =
    values.verify && !values.full ? await heldCheckpoint(values.repo, io, home) : undefined;
  const local = held ? undefined : await openLocalRepo(values.repo, io.cwd, io.env);
  const repoDir = held ? held.repoDir : local!.repo.repoDir;
  const branch = held ? held.branch : local!.forge.defaultBranch;
  const problems: string[] = [];
  // The auditor's own record of what it verified before (outside the repository).
  let checkpoint: Checkpointed | undefined;
  let repoHomeDir: string | undefined;
  let tip: string | undefined;
  let root = "";
  if (held) {
    ({ root, tip } = held);
    repoHomeDir = held.dir;
    const { tip: at, withdrawals } = held.body;
    checkpoint = { tip: at, root, ...(withdrawals ? { withdrawals } : {}) };
  } else if (values.verify) {
    const pinned = await pinnedRoot(local!.forge.git, branch, home);
    if (pinned.ok) {
      repoHomeDir = pinned.dir;
      root = pinned.root;
      tip = await local!.forge.git.revParse(`refs/heads/${branch}`);
      const loaded = values.full ? undefined : loadCheckpoint(pinned.dir, branch);
      if (loaded && !loaded.ok) problems.push(`checkpoint: ${loaded.problem}`);
      else if (loaded && loaded.body.root !== root)
        problems.push(`checkpoint: it was recorded for another trust root`);
      else if (loaded) {
        const { tip: at, withdrawals } = loaded.body;
        checkpoint = { tip: at, root, ...(withdrawals ? { withdrawals } : {}) };
      }
    }
  }
  const count = counter(io, values.json || values.csv, "audit");
  let records = 0;
  if (values.csv) io.stdout.write(CSV_COLUMNS.join(",") + "\n");
  for await (const item of auditTrail({
    repoDir,
    branch,
    verify: values.verify,
    now: io.now(),
    home,
    ...(checkpoint ? { checkpoint } : {}),
    onProgress: count.tick,
  })) {
    if ("commit" in item) {
      problems.push(`commit ${item.commit.slice(0, 7)}: ${item.problem}`);
      if (values.json) io.stdout.write(JSON.stringify({ finding: item }) + "\n");
      continue;
    }
    records++;
    // On one terminal, the count line is erased before a record is printed (drawn again after).
    if (io.stdout.isTTY) count.done();
    for (const p of item.problems ?? []) problems.push(`${item.id} ${item.action}: ${p}`);
    if (values.json) io.stdout.write(JSON.stringify(item) + "\n");
    else if (values.csv) io.stdout.write(csvRow(item) + "\n");
    else io.stdout.write(line(item));
  }
  count.done();
  if (!values.json && !values.csv) {
    if (records === 0) io.stdout.write("No requests yet.\n");
    if (values.verify) {
      const since = checkpoint
        ? ` (re-verified only what is new since the checkpoint at ${checkpoint.tip.slice(0, 7)}; it is still on ${branch})`
        : "";
      io.stdout.write(
        problems.length === 0
          ? `\nVerified: ${records} requests${since}; every merged request had a valid gate at its merge, is untampered, and every executed one has its result.\n`
          : `\nVerification FAILED (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems.map((p) => `  ✗ ${terminalText(p)}`).join("\n")}\n`,
      );
    }
  } else if (values.verify && problems.length > 0) {
    io.stderr.write(`interlock: audit verification failed: ${problems.length} problem(s)\n`);
  }
  if (values.checkpoint) {
    if (problems.length > 0 || repoHomeDir === undefined || tip === undefined) {
      io.stderr.write("interlock: no checkpoint recorded: the history did not verify\n");
    } else {
      const file = recordCheckpoint(repoHomeDir, {
        version: 1,
        root,
        branch,
        tip,
        records,
        at: io.now().toISOString(),
        // The checkpoint held (no problem was found), so its tip is on this history.
        withdrawals: await withdrawalsAt(repoDir, tip, checkpoint),
      });
      const msg = `Checkpoint recorded at ${tip.slice(0, 7)}, signed with the auditor's key (${file})\n`;
      if (values.json || values.csv) io.stderr.write(msg);
      else io.stdout.write(msg);
    }
  }
  return values.verify && problems.length > 0 ? EXIT.failure : EXIT.ok;
}

/**
 * The auditor's checkpoint for this repository's default branch, when one still holds: signed
 * with the auditor's key, recorded for a root this home pins, and its tip still on the branch's
 * first-parent history (so the history's root is the checkpoint's). Anything else (no
 * checkpoint, a rewrite, a bad signature) takes the full path, which walks the history to its
 * root and reports what is wrong.
 */
async function heldCheckpoint(
  repo: string | undefined,
  io: CliIO,
  home: string,
): Promise<
  | {
      repoDir: string;
      branch: string;
      root: string;
      tip: string;
      dir: string;
      body: CheckpointBody;
    }
  | undefined
> {
  const repoDir = await findRepoDir(repo, io.cwd);
  if (!existsSync(join(repoDir, ".git"))) return undefined;
  const rel = relative(resolve(repoDir), resolve(home));
  if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) return undefined;
  let branch: string;
  try {
    branch = loadConfig(repoDir).default_branch;
  } catch {
    return undefined;
  }
  let roots: string[];
  try {
    roots = readdirSync(join(home, "repos")).filter((r) => /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(r));
  } catch {
    return undefined;
  }
  const git = new Git(repoDir);
  const tip = await git.revParse(`refs/heads/${branch}`);
  if (tip === undefined) return undefined;
  for (const root of roots) {
    const dir = repoHome(home, root);
    const loaded = loadCheckpoint(dir, branch);
    if (!loaded?.ok || loaded.body.root !== root || readPin(home, root) !== root) continue;
    if (await onFirstParentHistory(git, tip, loaded.body.tip)) {
      return { repoDir, branch, root, tip, dir, body: loaded.body };
    }
  }
  return undefined;
}

function line(r: AuditRecord): string {
  const mark =
    r.problems && r.problems.length > 0
      ? "✗"
      : r.status === "denied"
        ? "⛔"
        : r.status === "executed"
          ? "✓"
          : "·";
  const who = r.on_behalf_of ? `${r.requester} for ${r.on_behalf_of}` : r.requester;
  const claimed = r.unverified_approvers ?? [];
  const approvals =
    r.approvers.length > 0
      ? ` approved by ${r.approvers.join(", ")}`
      : claimed.length > 0
        ? ` approvers claimed by the merge (unverified; run --verify): ${claimed.join(", ")}`
        : r.decision === "auto-approved"
          ? " auto-approved (recorded decision, unverified without --verify)"
          : "";
  const when = r.executed_at ?? r.merged_at ?? r.requested_at;
  // Everything in a record was written by someone else: shown escaped (presentation/escape.ts).
  const t = terminalText;
  return `${mark} ${t(when)}  ${t(r.id)}  ${t(r.action).padEnd(18)} ${t(r.risk).padEnd(8)} ${t(r.status).padEnd(8)} ${t(who)}${t(approvals)}${r.outcome ? ` → ${t(r.outcome)}` : ""}\n`;
}
