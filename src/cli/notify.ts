import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CONFIG_PATH, loadConfig } from "../config/config.ts";
import { EXIT } from "../errors.ts";
import { Git } from "../forge/local/git.ts";
import { LocalForge } from "../forge/local/local-forge.ts";
import { interlockHome } from "../settings/home.ts";
import type { SweepReport } from "../notify/deliver.ts";
import type { DeliveryRecord } from "../notify/outbox.ts";
import { terminalText } from "../presentation/escape.ts";
import { booleanFlag, stringFlag, type CommandInput } from "./command.ts";
import type { CliIO } from "./io.ts";
import { findRepoDir, repoHomeOf } from "./repository.ts";

/**
 * What a sweep needs of a local repository, opened without the policy engine; undefined when
 * it is no approvals repository or its committed config has no notifications section.
 */
async function openForNotifications(repo: string | undefined, io: CliIO) {
  const repoDir = await findRepoDir(repo, io.cwd);
  const file = join(repoDir, CONFIG_PATH);
  if (!existsSync(join(repoDir, ".git")) || !existsSync(file)) return undefined;
  // Cheap first (every command runs this): one git read of the committed config, nothing
  // parsed unless it names notifications. The default branch's name is the config's.
  const branch =
    /^default_branch:\s*["']?([A-Za-z0-9._/-]+)/m.exec(readFileSync(file, "utf8"))?.[1] ?? "main";
  const committed = await new Git(repoDir).readFile(
    `refs/heads/${branch}`,
    CONFIG_PATH.split("\\").join("/"),
  );
  if (committed === undefined || !/^notifications:/m.test(committed)) return undefined;
  // Whether the config names any route, and whether it is trusted, sweepLocal decides (it reads
  // the config through the trust chain).
  const forge = new LocalForge(repoDir, loadConfig(repoDir), { home: interlockHome(io.env) });
  const home = await repoHomeOf(repoDir, io.env);
  if (home === undefined) return undefined;
  return { forge, home };
}

/**
 * After a command on a local approvals repository: deliver what is due (a few seconds at
 * most), and say on stderr what could not be delivered. Never changes the command's outcome.
 */
export async function sweepAfterCommand(input: CommandInput, io: CliIO): Promise<void> {
  try {
    const repo = stringFlag(input, "repo");
    const local = await openForNotifications(repo, io);
    if (local === undefined) return;
    // The delivery code is loaded only when the repository tells someone.
    const { sweepLocal } = await import("../notify/local.ts");
    const report = await sweepLocal(local, {
      now: io.now,
      env: io.env,
      budgetMs: 5000,
      ...(repo ? { repoArg: repo } : {}),
    });
    if (report && report.undelivered.length > 0) {
      io.stderr.write(
        `interlock: ${report.undelivered.length} notification(s) not delivered (${terminalText(firstError(report.undelivered))}); they are retried by the next command or 'interlock notify'\n`,
      );
    }
  } catch {
    // Notifications never break a command; `interlock notify` reports why.
  }
}

/** `interlock notify`: deliver pending notifications now (on demand, or from cron). */
export async function notifyCommand(input: CommandInput, io: CliIO): Promise<number> {
  const repo = stringFlag(input, "repo");
  const json = booleanFlag(input, "json");
  const local = await openForNotifications(repo, io);
  // Undefined also when the committed config names no route (sweepLocal reads it trusted).
  let report: SweepReport | undefined;
  if (local !== undefined) {
    const { sweepLocal } = await import("../notify/local.ts");
    report = await sweepLocal(local, {
      now: io.now,
      env: io.env,
      budgetMs: 60_000,
      ...(repo ? { repoArg: repo } : {}),
    });
  }
  if (report === undefined) {
    if (json)
      io.stdout.write(JSON.stringify({ configured: false, delivered: [], undelivered: [] }) + "\n");
    else io.stdout.write(`No notifications configured (notifications: in ${CONFIG_PATH}).\n`);
    return EXIT.ok;
  }
  if (json) {
    io.stdout.write(JSON.stringify({ configured: true, ...report }, null, 2) + "\n");
  } else if (report.locked) {
    io.stdout.write("Another sweep is running; nothing done.\n");
  } else {
    const line = (d: DeliveryRecord) =>
      `  ${d.status === "delivered" ? "✓" : d.status === "retrying" ? "…" : "✗"} ${d.request} ${d.kind} → ${terminalText(d.channel)} (${terminalText(d.recipient)})` +
      (d.error ? `: ${terminalText(d.error)}` : "") +
      (d.next_attempt_at ? `; next try after ${d.next_attempt_at}` : "");
    io.stdout.write(
      `Delivered ${report.delivered.length}, not delivered ${report.undelivered.length}` +
        (report.deferred ? `, left for the next sweep ${report.deferred}` : "") +
        ".\n" +
        (report.unconfigured.length > 0
          ? `Not delivered from this machine (their secrets are not in its environment): ${report.unconfigured.map(terminalText).join(", ")}.\n`
          : "") +
        [...report.delivered, ...report.undelivered].map((d) => line(d) + "\n").join(""),
    );
  }
  return report.undelivered.length > 0 ? EXIT.failure : EXIT.ok;
}

function firstError(records: readonly DeliveryRecord[]): string {
  const r = records[0]!;
  return `${r.channel}: ${r.error ?? r.status}`;
}
