import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument, stringify } from "yaml";
import { z } from "zod";
import type { Git } from "../forge/local/git.ts";
import { repoHome, SETTINGS_FILE } from "../settings/home.ts";

/**
 * The trust root of an approvals repository is its initial commit: the oldest commit on the
 * default branch's first-parent history. Its id is the repository's fingerprint. The executor
 * and the auditor each pin it in their own settings, outside the repository
 * (<home>/repos/<root>/settings.yaml): a repository whose history starts anywhere else is not
 * the one they trust, however it names its admins.
 */
export async function rootCommitOf(git: Git, branch: string): Promise<string | undefined> {
  const out = await git.tryRaw([
    "rev-list",
    "--first-parent",
    "--max-parents=0",
    `refs/heads/${branch}`,
  ]);
  const roots = (out ?? "").split("\n").filter(Boolean);
  return roots[roots.length - 1];
}

const settingsSchema = z.looseObject({
  /** The pinned trust root: the approvals repository's initial commit. */
  trust_root: z.string().regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/),
});

/** What a local settings file pins, if anything. */
export function readPin(home: string, root: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(repoHome(home, root), SETTINGS_FILE), "utf8");
  } catch {
    return undefined;
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return undefined;
  const parsed = settingsSchema.safeParse(doc.toJS({ maxAliasCount: 0 }));
  return parsed.success ? parsed.data.trust_root : undefined;
}

/** Pins `root` as a trusted approvals repository in this home (`init` does it for the demo). */
export function pinRoot(home: string, root: string): string {
  const dir = repoHome(home, root);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, SETTINGS_FILE);
  let existing: Record<string, unknown> = {};
  try {
    existing = (parseDocument(readFileSync(file, "utf8")).toJS() as Record<string, unknown>) ?? {};
  } catch {
    existing = {};
  }
  writeFileSync(
    file,
    "# Interlock local settings for one approvals repository (never inside it).\n" +
      stringify({ ...existing, trust_root: root }),
    { mode: 0o600 },
  );
  return dir;
}

export type PinnedRoot =
  | { readonly ok: true; readonly root: string; readonly dir: string }
  | { readonly ok: false; readonly reason: string; readonly hint: string };

/**
 * The repository's trust root, if this home pins it. A repository with no history, or whose
 * history starts at a commit nobody pinned here (a rebuilt history), is refused.
 */
export async function pinnedRoot(git: Git, branch: string, home: string): Promise<PinnedRoot> {
  const root = await rootCommitOf(git, branch);
  if (root === undefined) {
    return {
      ok: false,
      reason: `the approvals repository has no ${branch} branch to anchor trust in`,
      hint: "Create one with 'interlock init <dir>'.",
    };
  }
  if (readPin(home, root) !== root) {
    return {
      ok: false,
      reason:
        `the history of ${branch} starts at ${root.slice(0, 12)}, a trust root this machine has not pinned ` +
        `(its settings are in ${home}); a history rebuilt from a new root is never trusted`,
      hint:
        `If this really is your approvals repository (compare ${root} with the id your admins ` +
        `publish), pin it: write 'trust_root: ${root}' to ${join(repoHome(home, root), SETTINGS_FILE)}.`,
    };
  }
  return { ok: true, root, dir: repoHome(home, root) };
}
