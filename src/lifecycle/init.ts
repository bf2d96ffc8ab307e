import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { CONFIG_PATH, type InterlockConfig } from "../config/config.ts";
import { InterlockError } from "../errors.ts";
import { Git, ZERO_OID } from "../forge/local/git.ts";
import { allowedSigners } from "../forge/local/local-forge.ts";
import { INTERLOCK_IDENTITY } from "../forge/refs.ts";
import { formatAllowedSigners } from "../forge/local/sshsig.ts";
import { newAgeIdentity } from "../masking/seal.ts";
import { defaultPoliciesDir } from "../policy/bundle.ts";
import { pinRoot } from "../trust/root.ts";
import { EXECUTOR_IDENTITY_FILE, KEYS_SUBDIR, MASK_KEY_FILE, repoHome } from "../settings/home.ts";

const run = promisify(execFile);

/** The demo people of a new approvals repository. */
export const DEMO_PEOPLE = {
  alice: { name: "Alice Example", role: "runs the agents (their human sponsor)" },
  dana: { name: "Dana Example", role: "data-stewards" },
  sam: { name: "Sam Example", role: "security" },
  pat: { name: "Pat Example", role: "platform" },
  riley: { name: "Riley Example", role: "release-managers, finance" },
} as const;

/** The demo agents: each files with its own key; its sponsor (alice, pat) is bound here. */
export const DEMO_AGENTS = {
  "agent:etl-bot": {
    name: "ETL bot",
    sponsor: "alice",
    aliases: ["etl-bot@acme-data.iam.example"],
  },
  "agent:catalogue-bot": { name: "Catalogue bot", sponsor: "alice", aliases: [] },
  "agent:deploy-bot": { name: "Deploy bot", sponsor: "pat", aliases: [] },
} as const;

/** Who approves governance changes: distinct from the agents' sponsor. */
export const DEMO_ADMINS = ["sam", "pat"] as const;

export const DEMO_TEAMS: Record<string, string[]> = {
  "data-stewards": ["dana"],
  security: ["sam"],
  platform: ["pat"],
  "release-managers": ["riley"],
  finance: ["riley"],
};

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

const GITIGNORE = `# Private keys never live in this repository: they are in each user's Interlock home
# ($INTERLOCK_HOME, else ~/.config/interlock). Should one be copied here by mistake, keep it out.
.interlock/keys/
.interlock/*.key
*.key
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
  readonly agents: string[];
  readonly commit: string;
  /** The per-repository directory in the Interlock home that holds the private keys. */
  readonly home: string;
}

/**
 * Creates a working local approvals repository: config with the demo people, agents (bound to
 * their sponsor) and teams, CODEOWNERS, the default policies (sources and built bundle), and
 * harmless executors for every catalogued action. The private keys (people's and agents' SSH
 * signing keys, the executor's age identity, the masking key) go to the Interlock home `home`,
 * under the directory named after the repository's initial commit: nothing secret is ever
 * inside the repository.
 */
export async function initRepository(
  dir: string,
  now: Date,
  opts: { readonly home: string },
): Promise<InitResult> {
  const rel = relative(resolve(dir), resolve(opts.home));
  if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) {
    throw new InterlockError("usage", `the Interlock home ${opts.home} is inside ${dir}`, {
      hint: "Private keys never live in the approvals repository: set INTERLOCK_HOME elsewhere.",
    });
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new InterlockError("usage", `${dir} exists and is not empty`, {
      hint: "Give a new directory: interlock init approvals",
    });
  }
  mkdirSync(join(dir, ".interlock"), { recursive: true });
  await new Git(dir).raw(["init", "-q", "-b", "main"]);

  // Keys are made in a private scratch directory, and moved to the home once the initial
  // commit (which names the home's directory) exists.
  const scratch = mkdtempSync(join(tmpdir(), "interlock-init-keys-"));
  try {
    const newKey = async (principal: string, comment: string) => {
      const keyFile = join(scratch, principal);
      await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", keyFile]);
      chmodSync(keyFile, 0o600);
      return readFileSync(`${keyFile}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
    };
    const people: InterlockConfig["people"] = {};
    for (const [id, p] of Object.entries(DEMO_PEOPLE)) {
      const email = `${id}@acme.example`;
      const pub = await newKey(id, email);
      people[id] = { name: p.name, email, aliases: [], signing_key: pub, bot: false };
    }
    const agents: InterlockConfig["agents"] = {};
    for (const [id, a] of Object.entries(DEMO_AGENTS)) {
      const pub = await newKey(id, id);
      agents[id] = { name: a.name, signing_key: pub, sponsor: a.sponsor, aliases: [...a.aliases] };
    }
    const executor = await newAgeIdentity();
    const commit = await writeRepository(dir, now, {
      people,
      agents,
      recipient: executor.recipient,
    });

    const home = repoHome(opts.home, commit);
    const keys = join(home, KEYS_SUBDIR);
    mkdirSync(keys, { recursive: true, mode: 0o700 });
    for (const principal of [...Object.keys(people), ...Object.keys(agents)]) {
      cpSync(join(scratch, principal), join(keys, principal));
      chmodSync(join(keys, principal), 0o600);
    }
    writeFileSync(
      join(home, EXECUTOR_IDENTITY_FILE),
      `# Interlock executor identity (never commit)\n${executor.identity}\n`,
      { mode: 0o600 },
    );
    writeFileSync(join(home, MASK_KEY_FILE), randomBytes(32).toString("hex") + "\n", {
      mode: 0o600,
    });
    // This user trusts what it just created: the initial commit is pinned as the trust root.
    pinRoot(opts.home, commit);
    return {
      dir,
      people: Object.keys(people),
      agents: Object.keys(agents),
      commit,
      home,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Writes and commits everything public; returns the initial commit. */
async function writeRepository(
  dir: string,
  now: Date,
  keys: {
    people: InterlockConfig["people"];
    agents: InterlockConfig["agents"];
    recipient: string;
  },
): Promise<string> {
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
    admins: [...DEMO_ADMINS],
    people: keys.people,
    agents: keys.agents,
    teams: DEMO_TEAMS,
    executors: { recipients: [keys.recipient], actions },
  };
  writeFileSync(
    join(dir, CONFIG_PATH),
    "# Interlock configuration: people (with the SSH keys that sign their approvals), agents\n" +
      "# (each with the key that signs its requests and the sponsor bound to it), teams, and\n" +
      "# executors (the age recipients params are sealed to, and what runs each action).\n" +
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
  // Plumbing, not `git commit`: no hooks, no signing program, the message through stdin.
  const tree = (await git.raw(["write-tree"])).trim();
  const commit = await git.commitTree(tree, {
    parents: [],
    message: "Initialise the approvals repository",
    author: INTERLOCK_IDENTITY,
    committer: INTERLOCK_IDENTITY,
    date: now,
  });
  await git.raw(["update-ref", "refs/heads/main", commit, ZERO_OID]);
  return commit;
}
