import { CONFIG_PATH, parseConfig } from "../config/config.ts";
import type { NotificationsConfig } from "./config.ts";

/** What reading the committed config needs of a forge. */
export interface DefaultBranchReader {
  readDefault(path: string): Promise<string | undefined>;
}

/**
 * The notifications the default branch configures: the committed config decides who is told
 * (an uncommitted edit of the working tree neither silences nor redirects anything).
 * Undefined when it configures none. Cheap when there are none: one read, no YAML parsed.
 */
export async function committedNotifications(
  forge: DefaultBranchReader,
): Promise<NotificationsConfig | undefined> {
  const text = await forge.readDefault(CONFIG_PATH.split("\\").join("/"));
  if (text === undefined || !/^notifications:/m.test(text)) return undefined;
  const n = parseConfig(text).notifications;
  return n === undefined || n.routes.length === 0 ? undefined : n;
}
