import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { JOURNAL_SUBDIR } from "../settings/home.ts";

/** One line of the executor's journal. */
export interface JournalEvent {
  readonly at: string;
  readonly id: string;
  /**
   * claim: about to run; result: it finished (any outcome); retry: a person asked to re-run;
   * withdrawn: the executor saw its requester's verified withdrawal (it never runs after that).
   */
  readonly event: "claim" | "result" | "retry" | "withdrawn";
  readonly outcome?: string;
  readonly merge_commit?: string;
  /** withdrawn: the commit that recorded the withdrawal. */
  readonly commit?: string;
}

/** What the journal knows about one request. */
export interface JournalState {
  readonly claimedAt?: string;
  readonly result?: { readonly at: string; readonly outcome: string };
  /** When the executor first saw its requester's verified withdrawal, and in which commit. */
  readonly withdrawn?: { readonly at: string; readonly commit: string };
}

export const JOURNAL_FILE = "executions.jsonl";

/**
 * The executor's own append-only journal, kept outside the approvals repository
 * (<home>/repos/<root>/journal/): the claim is written and fsync'ed before an action runs and
 * the result after, so a request that this executor ever claimed never runs again, whatever a
 * writer of the repository deletes (claim refs, result files, whole histories, unreachable
 * objects). Only `execute --retry <id>` after a crash (a claim without a result) re-runs, and
 * that is journalled too.
 */
export class ExecutionJournal {
  readonly file: string;
  readonly #state = new Map<string, JournalState>();

  private constructor(file: string) {
    this.file = file;
  }

  /** Opens (creating) the journal in a repository's directory of the Interlock home. */
  static open(repoHomeDir: string): ExecutionJournal {
    const dir = join(repoHomeDir, JOURNAL_SUBDIR);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const journal = new ExecutionJournal(join(dir, JOURNAL_FILE));
    let text = "";
    try {
      text = readFileSync(journal.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      // Create it now and make its directory entry durable, before anything is claimed.
      closeSync(openSync(journal.file, "a", 0o600));
      const dirFd = openSync(dir, "r");
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    }
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let e: JournalEvent;
      try {
        e = JSON.parse(line) as JournalEvent;
      } catch {
        continue; // a torn last line from a crash: the claim before it still counts
      }
      journal.#apply(e);
    }
    return journal;
  }

  state(id: string): JournalState | undefined {
    return this.#state.get(id);
  }

  /** Appends an event and forces it to disk before returning. */
  append(e: JournalEvent): void {
    const fd = openSync(this.file, "a", 0o600);
    try {
      writeSync(fd, JSON.stringify(e) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.#apply(e);
  }

  #apply(e: JournalEvent): void {
    if (typeof e?.id !== "string") return;
    const s = this.#state.get(e.id) ?? {};
    if (e.event === "claim") this.#state.set(e.id, { ...s, claimedAt: s.claimedAt ?? e.at });
    else if (e.event === "result")
      this.#state.set(e.id, { ...s, result: { at: e.at, outcome: e.outcome ?? "unknown" } });
    else if (e.event === "withdrawn" && s.withdrawn === undefined)
      this.#state.set(e.id, { ...s, withdrawn: { at: e.at, commit: e.commit ?? "?" } });
  }
}
