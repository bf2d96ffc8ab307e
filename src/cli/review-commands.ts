import type { Evaluation } from "../decide.ts";
import { EXIT, InterlockError } from "../errors.ts";
import {
  denialPath,
  proposalBranch,
  requestPath,
  resultPath,
  withdrawalPath,
} from "../forge/refs.ts";
import type { LocalForge } from "../forge/local/local-forge.ts";
import { renderVerdict } from "../gate/gate.ts";
import { directoryOf, resolvePrincipal } from "../identity/directory.ts";
import {
  OPEN_STATES,
  REQUEST_STATES,
  requestStatuses,
  type RequestState,
  type RequestStatus,
} from "../lifecycle/status.ts";
import { withdrawRequest } from "../lifecycle/withdraw.ts";
import { localDeliveries } from "../notify/outbox.ts";
import { renderCard } from "../proposal/card.ts";
import { terminalText } from "../presentation/escape.ts";
import { booleanFlag, repoHint, requireId, stringFlag, type CommandInput } from "./command.ts";
import type { CliIO } from "./io.ts";
import { openLocalRepo } from "./local.ts";

/** `interlock list`: requests and what each one waits for. */
export async function listCommand(input: CommandInput, io: CliIO): Promise<number> {
  if (input.positionals.length > 0)
    throw new InterlockError("usage", `unexpected argument '${input.positionals[0]}'`);
  const json = booleanFlag(input, "json");
  const forWho = stringFlag(input, "for");
  const stateFlag = stringFlag(input, "state");
  if (stateFlag !== undefined && !REQUEST_STATES.includes(stateFlag as RequestState)) {
    throw new InterlockError("usage", `--state ${stateFlag}: not a state`, {
      hint: `States: ${REQUEST_STATES.join(", ")}.`,
    });
  }
  const local = await openLocalRepo(stringFlag(input, "repo"), io.cwd, io.env);
  const now = io.now();
  const who =
    forWho === undefined
      ? undefined
      : (resolvePrincipal(directoryOf(local.config), forWho)?.id ?? forWho);
  const states: readonly RequestState[] = stateFlag
    ? [stateFlag as RequestState]
    : booleanFlag(input, "all")
      ? REQUEST_STATES
      : OPEN_STATES;
  const all = await requestStatuses(local.forge, now);
  const shown = all.filter(
    (r) => states.includes(r.state) && (who === undefined || r.reviewers.includes(who)),
  );
  if (json) {
    io.stdout.write(JSON.stringify({ requests: shown.map((r) => toJson(r, now)) }, null, 2) + "\n");
    return EXIT.ok;
  }
  if (shown.length === 0) {
    io.stdout.write(who !== undefined ? `Nothing waits for ${who}.\n` : "No requests.\n");
    return EXIT.ok;
  }
  const t = terminalText;
  for (const r of shown) {
    const by = r.on_behalf_of ? `${r.requester} for ${r.on_behalf_of}` : r.requester;
    const age = r.requested_at ? ago(now, new Date(r.requested_at)) : "?";
    const expiry =
      r.expires_at === null
        ? ""
        : new Date(r.expires_at).getTime() > now.getTime()
          ? ` expires in ${span(new Date(r.expires_at).getTime() - now.getTime())}`
          : "";
    io.stdout.write(
      `${r.id}  ${r.state.padEnd(9)} ${t(r.action).padEnd(18)} ${t(r.risk).padEnd(8)} ${t(by)}, ${age} ago${expiry}\n` +
        `    ${t(r.missing)}${r.reviewers.length > 0 ? ` (can approve: ${r.reviewers.join(", ")})` : ""}\n`,
    );
  }
  return EXIT.ok;
}

/** `interlock show <id>`: the masked card, the decision, the gate verdict and the reviews. */
export async function showCommand(input: CommandInput, io: CliIO): Promise<number> {
  const id = requireId(input.positionals);
  const json = booleanFlag(input, "json");
  const local = await openLocalRepo(stringFlag(input, "repo"), io.cwd, io.env);
  const now = io.now();
  const r = (await requestStatuses(local.forge, now, id)).find((s) => s.id === id);
  if (r === undefined) {
    throw new InterlockError("usage", `no request ${id} in this repository`, {
      hint: `See the requests with 'interlock list --all${repoHint(input)}'.`,
    });
  }
  const history = await requestHistory(local.forge, id, r.action);
  // Who was told, and when: recorded in the Interlock home, not in Git.
  const notifications = localDeliveries(local, id, now);
  if (json) {
    io.stdout.write(
      JSON.stringify(
        {
          ...toJson(r, now),
          request: r.record?.request ?? null,
          decision: r.record?.decision ?? null,
          masks: r.record?.masks ?? [],
          gate: r.verdict ?? null,
          history,
          notifications,
        },
        null,
        2,
      ) + "\n",
    );
    return EXIT.ok;
  }
  if (r.record) {
    // The card shows the recorded (masked) request: the sealed original is never opened here.
    const ev = {
      decision: r.record.decision,
      request: r.record.request,
      findings: r.record.findings,
      masks: r.record.masks,
      ignoredMaskRules: [],
    } as unknown as Evaluation;
    io.stdout.write(
      renderCard(ev, {
        color: Boolean(io.stdout.isTTY),
        requestedAt: new Date(r.record.requested_at),
      }),
    );
  }
  io.stdout.write(`\nState: ${r.state}: ${terminalText(r.missing)}\n`);
  if (r.expires_at) io.stdout.write(`Expires: ${terminalText(r.expires_at)}\n`);
  if (r.verdict) io.stdout.write(`\n${renderVerdict(r.verdict)}`);
  if (history.length > 0) {
    io.stdout.write("\nHistory (what each commit changed; commit messages are not shown):\n");
    for (const h of history) {
      io.stdout.write(`  ${h.at}  ${h.commit.slice(0, 7)}  ${h.change} ${terminalText(h.path)}\n`);
    }
  }
  if (notifications.length > 0) {
    io.stdout.write("\nNotifications\n");
    for (const d of notifications) {
      const when = d.delivered_at ?? d.last_attempt_at ?? "";
      io.stdout.write(
        `  ${d.status === "delivered" ? "✓" : d.status === "skipped" ? "-" : "…"} ${d.kind} → ${terminalText(d.channel)} (${terminalText(d.recipient)}): ${d.status}` +
          `${when ? ` ${when}` : ""}${d.attempts > 1 ? `, ${d.attempts} attempts` : ""}` +
          `${d.error ? `: ${terminalText(d.error)}` : ""}\n`,
      );
    }
  }
  return EXIT.ok;
}

/** One change to a request's files: when, in which commit, what happened to which path. */
interface HistoryEntry {
  readonly at: string;
  readonly commit: string;
  readonly change: "added" | "modified" | "deleted";
  readonly path: string;
}

/**
 * A request's history as facts of the repository: the proposal's commits (not on the default
 * branch) and the default branch's first-parent commits that added, changed or removed its
 * request, denial, result or withdrawal file, oldest first. Commit messages and trailers are
 * claims anyone can write, so they are not shown; the gate verdict says which reviews count.
 */
async function requestHistory(
  forge: LocalForge,
  id: string,
  action: string,
): Promise<HistoryEntry[]> {
  // Literal paths (Interlock's git takes every pathspec literally).
  const paths = [requestPath(action, id), denialPath(id), resultPath(id), withdrawalPath(id)];
  const main = `refs/heads/${forge.defaultBranch}`;
  const branch = `refs/heads/${proposalBranch(id)}`;
  const log = async (args: string[]) =>
    parseLog(
      (await forge.git.tryRaw([
        "log",
        "--reverse",
        "--no-renames",
        "--name-status",
        "--format=%x00%H %cI",
        ...args,
        "--",
        ...paths,
      ])) ?? "",
    );
  const onBranch = (await forge.git.revParse(branch)) ? await log([branch, "--not", main]) : [];
  return [...onBranch, ...(await log(["--first-parent", main]))];
}

function parseLog(out: string): HistoryEntry[] {
  const entries: HistoryEntry[] = [];
  for (const block of out.split("\0").filter((b) => b.trim())) {
    const [head, ...rest] = block.split("\n");
    const [commit, at] = (head ?? "").split(" ");
    for (const line of rest) {
      const [code, path] = line.split("\t");
      if (!code || !path || !commit || !at) continue;
      const change = code.startsWith("A") ? "added" : code.startsWith("D") ? "deleted" : "modified";
      entries.push({ at, commit, change, path });
    }
  }
  return entries;
}

/** `interlock withdraw <id> --as <requester>`: a signed withdrawal, recorded on the default branch. */
export async function withdrawCommand(input: CommandInput, io: CliIO): Promise<number> {
  const id = requireId(input.positionals);
  const json = booleanFlag(input, "json");
  const as = stringFlag(input, "as");
  if (as === undefined) throw new InterlockError("usage", "withdraw needs --as <requester>");
  const local = await openLocalRepo(stringFlag(input, "repo"), io.cwd, io.env);
  const { withdrawal: w, already } = await withdrawRequest(local, {
    id,
    as,
    keyFlag: stringFlag(input, "key"),
    reason: stringFlag(input, "reason"),
    cwd: io.cwd,
    now: io.now(),
    repoHint: repoHint(input),
  });
  if (json) {
    io.stdout.write(
      JSON.stringify({ id, withdrawn: true, by: w.by, at: w.at, commit: w.commit }, null, 2) + "\n",
    );
  } else {
    io.stdout.write(
      `${already ? "Already withdrawn" : "Withdrew"} ${id} (by ${w.by}, commit ${w.commit.slice(0, 7)}): it can never be merged or executed.\n`,
    );
  }
  return EXIT.ok;
}

function toJson(r: RequestStatus, now: Date): Record<string, unknown> {
  return {
    id: r.id,
    state: r.state,
    action: r.action,
    risk: r.risk,
    requester: r.requester,
    on_behalf_of: r.on_behalf_of,
    requested_at: r.requested_at,
    expires_at: r.expires_at,
    expired: r.expires_at !== null && new Date(r.expires_at).getTime() <= now.getTime(),
    missing: r.missing,
    reviewers: r.reviewers,
  };
}

function ago(now: Date, then: Date): string {
  return span(Math.max(0, now.getTime() - then.getTime()));
}

function span(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 1) return "<1m";
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${m % 60 ? ` ${m % 60}m` : ""}`;
  return `${Math.floor(h / 24)}d`;
}
