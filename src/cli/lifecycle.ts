import { terminalText } from "../presentation/escape.ts";
import { resolve } from "node:path";
import { EXIT, InterlockError } from "../errors.ts";
import type { LocalReviewState } from "../forge/local/reviews.ts";
import { renderVerdict } from "../gate/gate.ts";
import { ExecutionJournal } from "../execution/journal.ts";
import { executeMerged, type ExecutionReport } from "../lifecycle/execute.ts";
import { interlockHome } from "../settings/home.ts";
import { pinnedRoot } from "../trust/root.ts";
import {
  approveChange,
  isGovernanceChange,
  mergeChange,
  proposeChange,
} from "../trust/governance.ts";
import { readFileSync } from "node:fs";
import { join, relative, isAbsolute } from "node:path";
import { checkGate, mergeRequest } from "../lifecycle/gate-check.ts";
import { initRepository } from "../lifecycle/init.ts";
import { recordReview } from "../lifecycle/review.ts";
import { renderCard } from "../proposal/card.ts";
import { DEFAULT_MAX_REQUEST_BYTES, parseRequest } from "../request/parse.ts";
import { counter, progress, readRequestInput, type CliIO } from "./io.ts";
import { directoryOf, resolvePrincipal } from "../identity/directory.ts";
import { executorIdentities, fileAs, openLocalRepo, signingKeyFile } from "./local.ts";
import {
  booleanFlag,
  repoHint,
  requireId,
  shellWord,
  stringFlag,
  stringsFlag,
  type CommandInput,
} from "./command.ts";
import { resultPath } from "../forge/refs.ts";

export async function initCommand(input: CommandInput, io: CliIO): Promise<number> {
  const { positionals } = input;
  const json = booleanFlag(input, "json");
  if (positionals.length > 1)
    throw new InterlockError("usage", `unexpected argument '${positionals[1]}'`);
  const target = positionals[0] ?? stringFlag(input, "repo");
  const dir = resolve(io.cwd, target ?? ".");
  progress(io, json)(`Creating an approvals repository in ${dir} (keys, policies, config)…`);
  const r = await initRepository(dir, io.now(), { home: interlockHome(io.env) });
  if (json) io.stdout.write(JSON.stringify(r, null, 2) + "\n");
  else {
    io.stdout.write(
      `Initialised an Interlock approvals repository in ${dir}\n` +
        `  people: ${r.people.join(", ")}; agents: ${r.agents.join(", ")}\n` +
        `  private keys: in ${r.home} (your Interlock home), never in the repository\n` +
        `  policies: the defaults, in policies/ (tune policies/interlock/catalogue/data.yaml)\n` +
        `  executors: harmless demo executors for every catalogued action\n\n` +
        `Next: interlock request <request.yaml> --as <agent>${target === undefined ? "" : ` --repo ${shellWord(target)}`}\n`,
    );
  }
  return EXIT.ok;
}

export async function requestCommand(input: CommandInput, io: CliIO): Promise<number> {
  const { positionals } = input;
  const values = {
    as: stringFlag(input, "as"),
    key: stringFlag(input, "key"),
    repo: stringFlag(input, "repo"),
    json: booleanFlag(input, "json"),
  };
  if (positionals.length !== 1)
    throw new InterlockError("usage", "request takes one request file (or - for stdin)");
  const target = positionals[0]!;
  const text = await readRequestInput(target, io, DEFAULT_MAX_REQUEST_BYTES);
  const parsed = parseRequest(text, { source: target === "-" ? "stdin" : target });
  const local = await openLocalRepo(values.repo, io.cwd, io.env);
  // The requester is whoever signs: --as names them, their key signs the proposal.
  const filed = await fileAs(local, parsed, {
    as: values.as,
    keyFlag: values.key,
    cwd: io.cwd,
    now: io.now(),
  });
  const d = filed.evaluation.decision;
  if (values.json) {
    io.stdout.write(
      JSON.stringify(
        {
          id: filed.id,
          branch: filed.branch ?? null,
          path: filed.path,
          denied: filed.denied,
          decision: d,
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    io.stdout.write(
      renderCard(filed.evaluation, { color: Boolean(io.stdout.isTTY), requestedAt: io.now() }),
    );
    io.stdout.write(
      filed.denied
        ? `\nDenied and recorded as evidence: ${filed.path} on ${local.forge.defaultBranch}\n`
        : `\nFiled request ${filed.id}\n  branch ${filed.branch}\n  file   ${filed.path}\n\nNext: interlock gate ${filed.id}${repoHint(input)}\n`,
    );
  }
  return filed.denied ? EXIT.denied : EXIT.ok;
}

export const approveCommand = (input: CommandInput, io: CliIO): Promise<number> =>
  reviewCommand("approved", input, io);
export const rejectCommand = (input: CommandInput, io: CliIO): Promise<number> =>
  reviewCommand("changes_requested", input, io);

async function reviewCommand(
  state: LocalReviewState,
  input: CommandInput,
  io: CliIO,
): Promise<number> {
  const verb = state === "approved" ? "approve" : "reject";
  const values = {
    as: stringFlag(input, "as"),
    key: stringFlag(input, "key"),
    note: stringFlag(input, "note"),
    repo: stringFlag(input, "repo"),
    json: booleanFlag(input, "json"),
  };
  const id = requireId(input.positionals);
  if (!values.as) throw new InterlockError("usage", `interlock ${verb} needs --as <who>`);
  const local = await openLocalRepo(values.repo, io.cwd, io.env);
  const now = io.now();
  // Any name of a person (e-mail, alias) is that person.
  const who = resolvePrincipal(directoryOf(local.config), values.as)?.id ?? values.as;
  if (state === "approved" && (await isGovernanceChange(local.forge, id))) {
    const r = await approveChange(local.forge, {
      id,
      who,
      keyFile: signingKeyFile(local, who, values.key, io.cwd),
      now,
    });
    if (values.json) io.stdout.write(JSON.stringify({ id, tag: r.tag, head: r.head }) + "\n");
    else
      io.stdout.write(
        `${values.as} approved governance change ${id} at ${r.head.slice(0, 7)} (signed tag ${r.tag})\n`,
      );
    return EXIT.ok;
  }
  const r = await recordReview(local.forge, {
    id,
    who,
    state,
    keyFile: signingKeyFile(local, who, values.key, io.cwd),
    ...(values.note ? { note: values.note } : {}),
    now,
  });
  const gate = await checkGate(local.forge, id, now);
  const mine = [...gate.verdict.approvals].reverse().find((a) => a.who === who);
  if (values.json) {
    io.stdout.write(
      JSON.stringify(
        { id, tag: r.tag, head: r.head, review: mine ?? null, gate: gate.verdict },
        null,
        2,
      ) + "\n",
    );
  } else {
    io.stdout.write(
      `${who} ${state === "approved" ? "approved" : "requested changes on"} ${id} at ${r.head.slice(0, 7)} (signed tag ${r.tag})\n`,
    );
    if (mine) io.stdout.write(`  ${mine.counted ? "✓ counts" : "✗ does not count"}: ${mine.why}\n`);
    io.stdout.write(`  gate: ${gate.verdict.summary}\n`);
  }
  return EXIT.ok;
}

export async function gateCommand(input: CommandInput, io: CliIO): Promise<number> {
  const values = { repo: stringFlag(input, "repo"), json: booleanFlag(input, "json") };
  const id = requireId(input.positionals);
  const local = await openLocalRepo(values.repo, io.cwd, io.env);
  const { verdict } = await checkGate(local.forge, id, io.now());
  io.stdout.write(values.json ? JSON.stringify(verdict, null, 2) + "\n" : renderVerdict(verdict));
  return verdict.satisfied ? EXIT.ok : EXIT.gateNotSatisfied;
}

export async function mergeCommand(input: CommandInput, io: CliIO): Promise<number> {
  const values = { repo: stringFlag(input, "repo"), json: booleanFlag(input, "json") };
  const id = requireId(input.positionals);
  const local = await openLocalRepo(values.repo, io.cwd, io.env);
  if (await isGovernanceChange(local.forge, id)) {
    const g = await mergeChange(local.forge, id, io.now());
    if (values.json) {
      io.stdout.write(
        JSON.stringify(
          { merged: g.merged, commit: g.commit ?? null, governance: g.status },
          null,
          2,
        ) + "\n",
      );
    } else {
      io.stdout.write(
        g.merged
          ? `Merged governance change ${id} into ${local.forge.defaultBranch} as ${g.commit!.slice(0, 7)}\n  ${g.status.summary}\n`
          : `Not merged: ${g.status.summary}\n`,
      );
    }
    return g.merged ? EXIT.ok : EXIT.gateNotSatisfied;
  }
  const r = await mergeRequest(local.forge, id, io.now());
  if (values.json) {
    io.stdout.write(
      JSON.stringify(
        { merged: r.merged, commit: r.merged ? r.commit : null, gate: r.gate.verdict },
        null,
        2,
      ) + "\n",
    );
  } else if (r.merged) {
    io.stdout.write(
      `Merged ${id} into ${local.forge.defaultBranch} as ${r.commit.slice(0, 7)}\n  ${r.gate.verdict.summary}\n\nNext: interlock execute${repoHint(input)}\n`,
    );
  } else {
    io.stdout.write(`Not merged: the gate does not hold.\n\n${renderVerdict(r.gate.verdict)}`);
  }
  return r.merged ? EXIT.ok : EXIT.gateNotSatisfied;
}

export async function executeCommand(input: CommandInput, io: CliIO): Promise<number> {
  const values = {
    retry: stringsFlag(input, "retry"),
    repo: stringFlag(input, "repo"),
    json: booleanFlag(input, "json"),
  };
  if (input.positionals.length > 0)
    throw new InterlockError("usage", `unexpected argument '${input.positionals[0]}'`);
  for (const id of values.retry) requireId([id]);
  const local = await openLocalRepo(values.repo, io.cwd, io.env);
  const home = interlockHome(io.env);
  const pinned = await pinnedRoot(local.forge.git, local.forge.defaultBranch, home);
  if (!pinned.ok) throw new InterlockError("config.invalid", pinned.reason, { hint: pinned.hint });
  if (values.retry.length > 0) {
    const merged = new Set((await local.forge.mergedRequests()).map((m) => m.id));
    for (const id of values.retry) {
      if (!merged.has(id)) {
        throw new InterlockError("usage", `--retry ${id}: no merged request has that id`, {
          hint: `Only a merged request can be retried; see 'interlock list --all${repoHint(input)}'.`,
        });
      }
      if (await local.forge.readDefault(resultPath(id))) {
        throw new InterlockError("usage", `--retry ${id}: it has a result already`, {
          hint: "A request with a recorded result never runs again; file a new request.",
        });
      }
    }
  }
  const count = counter(io, values.json, "execute");
  let reports: ExecutionReport[];
  try {
    reports = await executeMerged({
      journal: ExecutionJournal.open(pinned.dir),
      forge: local.forge,
      config: local.config,
      repoDir: local.repo.repoDir,
      identities: executorIdentities(local),
      decide: {
        engine: local.repo.engine,
        repo: local.repo.repoName,
        hmacKey: local.repo.hmacKey,
        identities: directoryOf(local.config),
      },
      now: io.now,
      env: io.env,
      retry: values.retry,
      onProgress: progress(io, values.json),
      onCount: count.tick,
    });
  } finally {
    count.done();
  }
  if (values.json) io.stdout.write(JSON.stringify({ executed: reports }, null, 2) + "\n");
  else io.stdout.write(renderReports(reports));
  const bad = reports.some((r) => r.status === "refused" || r.status === "failed");
  return bad ? EXIT.failure : EXIT.ok;
}

function renderReports(reports: readonly ExecutionReport[]): string {
  if (reports.length === 0) return "Nothing to execute: every merged request has a result.\n";
  const mark: Record<string, string> = {
    succeeded: "✓",
    failed: "✗",
    refused: "⛔",
    claimed: "…",
    "no-executor": "?",
    busy: "…",
  };
  return reports
    .map(
      (r) =>
        `${mark[r.status] ?? "-"} ${r.id} ${terminalText(r.action)}: ${r.status}: ${terminalText(r.detail)}\n`,
    )
    .join("");
}

/**
 * `interlock propose-change <files…>`: proposes the working tree's version of trust inputs
 * (.interlock/, policies/, CODEOWNERS) as a governance change, approved by a majority of the
 * admins (`interlock approve <id> --as <admin>`) and landed by `interlock merge <id>`.
 */
export async function proposeChangeCommand(input: CommandInput, io: CliIO): Promise<number> {
  const values = {
    summary: stringFlag(input, "summary"),
    repo: stringFlag(input, "repo"),
    json: booleanFlag(input, "json"),
  };
  const positionals = input.positionals;
  if (positionals.length === 0) {
    throw new InterlockError("usage", "missing the files to change");
  }
  const local = await openLocalRepo(values.repo, io.cwd, io.env);
  const dir = local.repo.repoDir;
  const files = positionals.map((p) => {
    const abs = isAbsolute(p) ? p : join(io.cwd, p);
    const path = relative(dir, abs).split("\\").join("/");
    if (path.startsWith("..")) throw new InterlockError("usage", `${p} is outside the repository`);
    return { path, content: readFileSync(abs, "utf8") };
  });
  const r = await proposeChange(local.forge, files, {
    now: io.now(),
    ...(values.summary ? { summary: values.summary } : {}),
  });
  if (values.json) io.stdout.write(JSON.stringify(r, null, 2) + "\n");
  else {
    io.stdout.write(
      `Proposed governance change ${r.id}\n  branch ${r.branch}\n  files  ${files.map((f) => f.path).join(", ")}\n\n` +
        `Next: a majority of the admins run 'interlock approve ${r.id}${repoHint(input)} --as <admin>', then 'interlock merge ${r.id}${repoHint(input)}'\n`,
    );
  }
  return EXIT.ok;
}
