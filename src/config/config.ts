import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { z } from "zod";
import { InterlockError } from "../errors.ts";
import { executorConfigSchema } from "../execution/executors.ts";
import { AGE_RECIPIENT_PATTERN } from "../masking/seal.ts";

/** Where an approvals repository keeps its Interlock configuration. */
export const CONFIG_PATH = join(".interlock", "config.yaml");

const personId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, "must be a lower-case login such as dana");

const personSchema = z.strictObject({
  name: z.string().min(1).max(200),
  email: z.email(),
  /** SSH public key used to sign approvals ("ssh-ed25519 AAAA…"); absent for agents and bots. */
  signing_key: z
    .string()
    .regex(
      /^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]+( .*)?$/,
      "must be an SSH public key",
    )
    .optional(),
  /** Bots and agents never count as approvers. */
  bot: z.boolean().default(false),
});

/** `.interlock/config.yaml`: people, teams, executors (SPEC §4). Parsed strictly. */
export const configSchema = z.strictObject({
  version: z.literal(1),
  /** The organisation in owner handles: "@acme/security" is team security of org acme. */
  org: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,38}$/),
  default_branch: z.string().min(1).default("main"),
  people: z.record(personId, personSchema),
  /**
   * Who approves governance changes (config, CODEOWNERS, policies): a majority of the admins
   * named in the revision before the change. People ids.
   */
  admins: z.array(personId).default([]),
  teams: z.record(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/), z.array(personId)),
  executors: z.strictObject({
    /** age recipients (age1…) the original params are sealed to. */
    recipients: z
      .array(z.string().regex(AGE_RECIPIENT_PATTERN, "must be an age recipient (age1…)"))
      .min(1),
    /** Where the executor's age identity lives (git-ignored), relative to the repository. */
    identity_file: z.string().default(".interlock/executor.key"),
    /** Executor per action or action family ("db.export", "iam", "*"). */
    actions: z.record(z.string(), executorConfigSchema),
  }),
});

export type InterlockConfig = z.infer<typeof configSchema>;
export type Person = InterlockConfig["people"][string];

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
  for (const admin of config.admins) {
    if (!(admin in config.people)) {
      throw new InterlockError(
        "config.invalid",
        `${CONFIG_PATH}: admins lists ${admin}, who is not in people`,
      );
    }
  }
  for (const [team, members] of Object.entries(config.teams)) {
    for (const m of members) {
      if (!(m in config.people)) {
        throw new InterlockError(
          "config.invalid",
          `${CONFIG_PATH}: team ${team} lists ${m}, who is not in people`,
        );
      }
    }
  }
  return config;
}

/**
 * Members of each owner handle, for the gate: "@acme/security" → members of team security,
 * "@dana" → dana. Handles of other organisations resolve to nobody (fail closed).
 */
export function ownerMembers(config: InterlockConfig): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const admin of config.admins) {
    if (!(admin in config.people)) {
      throw new InterlockError(
        "config.invalid",
        `${CONFIG_PATH}: admins lists ${admin}, who is not in people`,
      );
    }
  }
  for (const [team, members] of Object.entries(config.teams)) {
    out[`@${config.org.toLowerCase()}/${team}`] = [...members];
  }
  for (const id of Object.keys(config.people)) out[`@${id}`] = [id];
  return out;
}

/** The configured person with this e-mail address (case-insensitive), if any. */
export function personByEmail(config: InterlockConfig, email: string): string | undefined {
  const e = email.toLowerCase();
  return Object.entries(config.people).find(([, p]) => p.email.toLowerCase() === e)?.[0];
}
