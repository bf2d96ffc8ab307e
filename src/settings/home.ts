import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where Interlock keeps what must never be inside an approvals repository: private keys
 * (people's, agents', the executor's age identity), the masking key, the executor's journal, the
 * auditor's checkpoints and the trust-root fingerprints that the executor and the auditor pin.
 *
 * Anyone who can run `interlock request` can read and write the approvals repository, its
 * working tree and its `.git`; so nothing there may hold a secret or a trust anchor. This home
 * is per user (and per machine): an agent's sandbox gets its own, holding only the agent's key.
 *
 *   $INTERLOCK_HOME, else $XDG_CONFIG_HOME/interlock, else ~/.config/interlock
 *
 * The environment is passed in (never read at import time) so that tests and the CLI decide.
 */
export function interlockHome(env: NodeJS.ProcessEnv): string {
  const explicit = env.INTERLOCK_HOME?.trim();
  if (explicit) return explicit;
  const xdg = env.XDG_CONFIG_HOME?.trim();
  if (xdg) return join(xdg, "interlock");
  return join(env.HOME?.trim() || homedir(), ".config", "interlock");
}

/**
 * The directory for one approvals repository inside the home, named after the repository's
 * trust root (its initial commit), so that two clones of one repository share keys and state
 * and two different repositories never do.
 */
export function repoHome(home: string, rootCommit: string): string {
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(rootCommit)) {
    throw new Error(`not a commit id: ${JSON.stringify(rootCommit.slice(0, 80))}`);
  }
  return join(home, "repos", rootCommit);
}

/** Private keys of people and agents, one file per principal: <repoHome>/keys/<principal>. */
export const KEYS_SUBDIR = "keys";
/** The executor's age identity: <repoHome>/executor.key. */
export const EXECUTOR_IDENTITY_FILE = "executor.key";
/** The masking (HMAC) key: <repoHome>/mask.key. */
export const MASK_KEY_FILE = "mask.key";
/** The executor's own journal of claims and results: <repoHome>/journal/. */
export const JOURNAL_SUBDIR = "journal";
/** The auditor's signed checkpoints: <repoHome>/checkpoints/. */
export const CHECKPOINT_SUBDIR = "checkpoints";
/** Local settings (pinned trust-root fingerprint, key paths): <repoHome>/settings.yaml. */
export const SETTINGS_FILE = "settings.yaml";
/** Notification deliveries (who was told what, when; Slack message ids): <repoHome>/notifications/. */
export const NOTIFICATIONS_SUBDIR = "notifications";
