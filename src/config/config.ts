import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { InterlockError } from "../errors.ts";
import { CONFIG_PATH } from "../forge/refs.ts";
import { executorConfigSchema } from "../execution/executors.ts";
import { spellingClash } from "../identity/directory.ts";
import { AGE_RECIPIENT_PATTERN } from "../masking/seal.ts";
import { notificationsConfigSchema } from "../notify/config.ts";

/** Where an approvals repository keeps its Interlock configuration. */
export { CONFIG_PATH };

const personId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "must be a lower-case login such as dana");

/** An agent's id: always spelled with its kind, "agent:etl-bot". */
const agentId = z
  .string()
  .regex(/^agent:[a-z0-9][a-z0-9_.-]{0,62}$/, "must be an agent id such as agent:etl-bot");

const sshPublicKey = z
  .string()
  .regex(
    /^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]+( .*)?$/,
    "must be an SSH public key",
  );

/**
 * Another name of the same principal: an e-mail address, a login on another system
 * ("github:dana-gh"), a cloud identity ("serviceAccount:etl@proj.iam.gserviceaccount.com").
 * Every alias is matched case-insensitively and must belong to exactly one principal.
 */
/** A C0 or C1 control character, or DEL. */
function hasControl(s: string): boolean {
  return [...s].some((c) => {
    const code = c.codePointAt(0)!;
    return code < 0x20 || (code >= 0x7f && code < 0xa0);
  });
}

const aliasSchema = z
  .string()
  .max(320)
  .refine((s) => s.trim().length > 0 && !/\s/.test(s.trim()) && !hasControl(s), {
    message: "must be one identity without spaces, such as github:dana or dana@corp.example",
  });

const personSchema = z.strictObject({
  name: z.string().min(1).max(200),
  email: z.email(),
  /** Other names of this person (e-mails, logins elsewhere, cloud identities). */
  aliases: z.array(aliasSchema).default([]),
  /** SSH public key used to sign approvals and requests ("ssh-ed25519 AAAA…"). */
  signing_key: sshPublicKey.optional(),
  /** Bots never count as approvers. */
  bot: z.boolean().default(false),
});

/**
 * An agent (or pipeline) that files requests. Its sponsor, the human who runs it, is bound
 * here: a request never names it, so an agent cannot choose whose approval is excluded.
 */
const agentSchema = z.strictObject({
  name: z.string().min(1).max(200).optional(),
  /** SSH public key that signs the agent's requests. */
  signing_key: sshPublicKey,
  /** The person who runs this agent; excluded from approving its requests. */
  sponsor: personId,
  /** The agent's other identities (a cloud service account, a bot login). */
  aliases: z.array(aliasSchema).default([]),
});

/** `.interlock/config.yaml`: people, teams, executors (docs/repository.md). Parsed strictly. */
export const configSchema = z.strictObject({
  version: z.literal(1),
  /** The organisation in owner handles: "@acme/security" is team security of org acme. */
  org: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/),
  default_branch: z.string().min(1).default("main"),
  /** People who approve governance changes (trust root); distinct from agents' sponsors. */
  admins: z.array(personId).default([]),
  people: z.record(personId, personSchema),
  /** Agents and pipelines that file requests, each with its key and its bound sponsor. */
  agents: z.record(agentId, agentSchema).default({}),
  teams: z.record(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/), z.array(personId)),
  executors: z.strictObject({
    /** age recipients (age1…) the original params are sealed to. */
    recipients: z
      .array(z.string().regex(AGE_RECIPIENT_PATTERN, "must be an age recipient (age1…)"))
      .min(1),
    /**
     * Deprecated: the executor's age identity lives in the executor's Interlock home
     * (<home>/repos/<initial commit>/executor.key), never in the repository. Accepted so that
     * older configurations still parse; a path inside the repository is refused when used.
     */
    identity_file: z.string().optional(),
    /** Executor per action or action family ("db.export", "iam", "*"). */
    actions: z.record(z.string(), executorConfigSchema),
  }),
  /** Who is told about requests (Slack, Teams, webhooks); secrets come from the environment. */
  notifications: notificationsConfigSchema.optional(),
});

export type InterlockConfig = z.infer<typeof configSchema>;
export type Person = InterlockConfig["people"][string];
export type Agent = InterlockConfig["agents"][string];

/** Reads and validates the configuration of an approvals repository. */
export function loadConfig(repoDir: string): InterlockConfig {
  const file = join(repoDir, CONFIG_PATH);
  if (!existsSync(file)) {
    throw new InterlockError("config.invalid", `${repoDir} has no ${CONFIG_PATH}`, {
      hint: "Create an approvals repository with 'interlock init <dir>', or pass --repo <dir>.",
    });
  }
  return parseConfig(readFileSync(file, "utf8"));
}

export function parseConfig(text: string): InterlockConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new InterlockError(
      "config.invalid",
      `${CONFIG_PATH}: malformed YAML (${doc.errors[0]!.code.toLowerCase()})`,
    );
  }
  const result = configSchema.safeParse(doc.toJS({ maxAliasCount: 0 }));
  if (!result.success) {
    const problems = result.error.issues.map((i) => ({
      field: "/" + i.path.map(String).join("/"),
      message: i.message,
    }));
    throw new InterlockError(
      "config.invalid",
      `${CONFIG_PATH}: ${problems.map((p) => `${p.field}: ${p.message}`).join("; ")}`,
      { problems },
    );
  }
  const config = result.data;
  const invalid = (message: string) =>
    new InterlockError("config.invalid", `${CONFIG_PATH}: ${message}`);
  for (const [team, members] of Object.entries(config.teams)) {
    for (const m of members) {
      if (!(m in config.people)) throw invalid(`team ${team} lists ${m}, who is not in people`);
    }
  }
  for (const admin of config.admins) {
    if (!(admin in config.people)) throw invalid(`admins lists ${admin}, who is not in people`);
  }
  for (const [agent, a] of Object.entries(config.agents)) {
    const sponsor = config.people[a.sponsor];
    if (sponsor === undefined) {
      throw invalid(`agent ${agent} names sponsor ${a.sponsor}, who is not in people`);
    }
    if (sponsor.bot) throw invalid(`agent ${agent} names sponsor ${a.sponsor}, who is a bot`);
  }
  // Every spelling must name exactly one principal: building the directory checks that.
  const clash = spellingClash(config);
  if (clash !== undefined) throw invalid(clash);
  return config;
}

/**
 * Members of each owner handle, for the gate: "@acme/security" → members of team security,
 * "@dana" → dana. Handles of other organisations resolve to nobody (fail closed).
 */
export function ownerMembers(config: InterlockConfig): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [team, members] of Object.entries(config.teams)) {
    out[`@${config.org.toLowerCase()}/${team}`] = [...members];
  }
  for (const id of Object.keys(config.people)) out[`@${id}`] = [id];
  return out;
}
