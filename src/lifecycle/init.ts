import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { CONFIG_PATH, type InterlockConfig } from "../config/config.ts";
import { InterlockError } from "../errors.ts";
import { Git } from "../forge/local/git.ts";
import { allowedSigners } from "../forge/local/local-forge.ts";
import { INTERLOCK_IDENTITY } from "../forge/refs.ts";
import { formatAllowedSigners } from "../forge/local/sshsig.ts";
import { newAgeIdentity } from "../masking/seal.ts";
import { defaultPoliciesDir } from "../policy/bundle.ts";

const run = promisify(execFile);

/** The demo people of a new approvals repository (SPEC §6). */
export const DEMO_PEOPLE = {
  alice: { name: "Alice Example", role: "runs the agents (their human sponsor)" },
  dana: { name: "Dana Example", role: "data-stewards" },
  sam: { name: "Sam Example", role: "security" },
  pat: { name: "Pat Example", role: "platform" },
  riley: { name: "Riley Example", role: "release-managers, finance" },
} as const;

export const DEMO_TEAMS: Record<string, string[]> = {
  "data-stewards": ["dana"],
  security: ["sam"],
  platform: ["pat"],
  "release-managers": ["riley"],
  finance: ["riley"],
};

export const KEYS_DIR = join(".interlock", "keys");
export const EXECUTOR_KEY = join(".interlock", "executor.key");
export const MASK_KEY = join(".interlock", "mask.key");
/** Public keys in ssh-keygen's allowed-signers format, so plain `git tag -v` works too. */
export const ALLOWED_SIGNERS = join(".interlock", "allowed_signers");

const CODEOWNERS = `# Who may approve what in this approvals repository (GitHub semantics: the last matching
# line wins, and any one owner on it satisfies it). Interlock's gate reads this file from the
# base branch, so a proposal cannot change its own reviewers.
/requests/                      @acme/security
/requests/db.query/             @acme/data-stewards
/requests/db.export/            @acme/data-stewards
/requests/iam.grant/            @acme/security
/requests/secrets.read/         @acme/security
/requests/infra.apply/          @acme/platform
/requests/deploy.production/    @acme/release-managers
/requests/payments.refund/      @acme/finance

# The rules themselves: only security may change them.
/policies/                      @acme/security
/.interlock/                    @acme/security
/CODEOWNERS                     @acme/security
`;

const GITIGNORE = `# Never committed: private signing keys, the executor's age identity, the masking key.
.interlock/keys/
.interlock/*.key
`;

const README = `# Approvals

This repository is an Interlock approvals repository. Each privileged action an agent or
pipeline asks for is a branch \`interlock/<id>\` adding \`requests/<action>/<id>.yaml\`.

    interlock gate <id>               # what is still needed, and why an approval did not count
    interlock approve <id> --as dana  # a signed approval (local forge)
    interlock merge <id>              # merges only when the gate holds
    interlock execute                 # runs merged requests exactly once
    interlock audit --verify          # the trail, checked from Git history

Each review is a tag signed with the reviewer's SSH key; check one with plain git:

    git tag -v interlock/reviews/<id>/<who>-<…>

Tune the rules in policies/interlock/catalogue/data.yaml, then \`interlock policy test\` and
\`interlock policy build\`.
`;

export interface InitResult {
  readonly dir: string;
  readonly people: string[];
  readonly commit: string;
}

/**
 * Creates a working local approvals repository: config with the demo people and teams, their
 * SSH signing keys (git-ignored), CODEOWNERS, the default policies (sources and built bundle),
 * an age identity for the executor and a masking key (both git-ignored), and harmless
 * executors for every catalogued action.
 */
export async function initRepository(dir: string, now: Date): Promise<InitResult> {
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new InterlockError("usage", `${dir} exists and is not empty`, {
      hint: "Give a new directory: interlock init approvals",
    });
  }
  mkdirSync(join(dir, KEYS_DIR), { recursive: true });
  await run("git", ["init", "-q", "-b", "main", dir]);

  const people: InterlockConfig["people"] = {};
  for (const [id, p] of Object.entries(DEMO_PEOPLE)) {
    const keyFile = join(dir, KEYS_DIR, id);
    await run("ssh-keygen", [
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      `${id}@acme.example`,
      "-f",
      keyFile,
    ]);
    chmodSync(keyFile, 0o600);
    const pub = readFileSync(`${keyFile}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
    people[id] = { name: p.name, email: `${id}@acme.example`, signing_key: pub, bot: false };
  }
  const executor = await newAgeIdentity();
  writeFileSync(
    join(dir, EXECUTOR_KEY),
    `# Interlock executor identity (never commit)\n${executor.identity}\n`,
    {
      mode: 0o600,
    },
  );
  writeFileSync(join(dir, MASK_KEY), randomBytes(32).toString("hex") + "\n", { mode: 0o600 });

  cpSync(defaultPoliciesDir(), join(dir, "policies"), { recursive: true });
  const catalogue = JSON.parse(
    readFileSync(join(dir, "policies", "dist", "data.json"), "utf8"),
  ) as {
    interlock: { catalogue: { actions: Record<string, unknown> } };
  };
  const actions = Object.fromEntries(
    Object.keys(catalogue.interlock.catalogue.actions).map((a) => [
      a,
      { type: "noop" as const, message: `demo executor: would run ${a}` },
    ]),
  );
  const config = {
    version: 1,
    org: "acme",
    default_branch: "main",
    people,
    // Governance (config, CODEOWNERS, policies) is approved by a majority of these, never by
    // the agents' sponsor (alice).
    admins: ["sam", "pat"],
    teams: DEMO_TEAMS,
    executors: { recipients: [executor.recipient], identity_file: EXECUTOR_KEY, actions },
  };
  writeFileSync(
    join(dir, CONFIG_PATH),
    "# Interlock configuration: people (with the SSH keys that sign their approvals), teams,\n" +
      "# and executors (the age recipients params are sealed to, and what runs each action).\n" +
      stringify(config, { lineWidth: 0 }),
  );
  writeFileSync(
    join(dir, ALLOWED_SIGNERS),
    formatAllowedSigners(allowedSigners(config as InterlockConfig)),
  );
  writeFileSync(join(dir, "CODEOWNERS"), CODEOWNERS);
  writeFileSync(join(dir, ".gitignore"), GITIGNORE);
  writeFileSync(join(dir, "README.md"), README);

  const git = new Git(dir);
  // Lets anyone check a review with git alone: git tag -v interlock/reviews/<id>/<who>-…
  await git.raw(["config", "gpg.ssh.allowedSignersFile", ALLOWED_SIGNERS]);
  await git.raw(["add", "-A"]);
  const date = `${Math.floor(now.getTime() / 1000)} +0000`;
  await git.raw(["commit", "-q", "-m", "Initialise the approvals repository"], {
    GIT_AUTHOR_NAME: INTERLOCK_IDENTITY.name,
    GIT_AUTHOR_EMAIL: INTERLOCK_IDENTITY.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: INTERLOCK_IDENTITY.name,
    GIT_COMMITTER_EMAIL: INTERLOCK_IDENTITY.email,
    GIT_COMMITTER_DATE: date,
  });
  const commit = (await git.raw(["rev-parse", "HEAD"])).trim();
  return { dir, people: Object.keys(people), commit };
}
